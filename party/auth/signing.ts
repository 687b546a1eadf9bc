/**
 * HMAC-SHA-256 signatures and SHA-256 digests over WebCrypto (workerd and Node alike), for the tokens
 * the mesh mints itself (viewer links, attempt tokens), webhook signatures and session-archive checks.
 */
const encoder = new TextEncoder();

export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  let text = "";
  for (const byte of bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Bytes as lowercase hex. */
export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}

/** The HMAC-SHA-256 of `payload` keyed with `secret`. */
export async function hmacSha256(payload: string, secret: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return crypto.subtle.sign("HMAC", key, encoder.encode(payload));
}

export async function sign(payload: string, secret: string): Promise<string> {
  return base64url(await hmacSha256(payload, secret));
}

/** Whether `signature` is the signature of `payload`, compared in constant time. */
export async function signedBy(payload: string, signature: string, secret: string): Promise<boolean> {
  const expected = await sign(payload, secret);
  if (expected.length !== signature.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  return diff === 0;
}

/** SHA-256 of a text, as hex: how the registry keeps agent credentials (never the credential itself). */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** `bytes` random bytes as base64url text. */
export function randomSecret(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}
