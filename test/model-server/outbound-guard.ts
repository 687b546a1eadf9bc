// The proxy side of the model server: the CLIs run with HTTP_PROXY/HTTPS_PROXY/ALL_PROXY pointing at
// it (NO_PROXY keeps 127.0.0.1 direct), so any connection a CLI opens to another host arrives here
// as a CONNECT or an absolute-URI request, is logged and refused. A new phone-home after an upgrade
// then fails the test that asserts none happened (README.md here).

/** A host name that resolves nowhere: a base URL on it reaches the server only through the proxy. */
export const PROXY_ONLY_HOST = "mesh-model.invalid";

/** What an absolute-URI request (`GET http://host/path`) asks for: the server's own API, or elsewhere. */
export type ProxiedTarget = { own: true; path: string } | { own: false; host: string };

/**
 * The target of a request line. `undefined` for an ordinary origin-form request (`/v1/messages`).
 * The server's own address and PROXY_ONLY_HOST are its own: that request is served, marked as proxied.
 */
export function proxiedTarget(requestUrl: string, ownPort: number): ProxiedTarget | undefined {
  if (!/^[a-z]+:\/\//i.test(requestUrl)) return undefined;
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { own: false, host: requestUrl };
  }
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  const ownHost =
    url.hostname === PROXY_ONLY_HOST ||
    (["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) && port === ownPort);
  return ownHost ? { own: true, path: `${url.pathname}${url.search}` } : { own: false, host: url.host };
}

/** The answer to a CONNECT or a request for another host: 403, closed, naming the guard. */
export const PROXY_REFUSAL_TEXT = "mesh model server: outbound connections from a tested CLI refused\n";
export const PROXY_REFUSAL = `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(PROXY_REFUSAL_TEXT)}\r\n\r\n${PROXY_REFUSAL_TEXT}`;
