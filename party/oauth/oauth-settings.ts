import type { OAuthSettings } from "./grant-state.ts";

/** Codes live 60 s (RFC 6749 advises at most 10 minutes; the consent page posts back at once). */
const CODE_TTL_S = 60;
/** Access tokens live an hour; clients refresh. */
const ACCESS_TTL_S = 3600;

const positive = (value: unknown, fallback: number): number => {
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(number) && number > 0 ? number : fallback;
};

/** The grants room's settings from its env: `MESH_OAUTH_CODE_TTL_S` (tests shorten it), `MESH_OAUTH_ACCESS_TTL_S`. */
export function oauthSettingsFrom(env: Record<string, unknown>): OAuthSettings {
  return {
    codeTtlMs: positive(env.MESH_OAUTH_CODE_TTL_S, CODE_TTL_S) * 1000,
    accessTtlS: positive(env.MESH_OAUTH_ACCESS_TTL_S, ACCESS_TTL_S),
    maxClients: 1000,
    maxGrants: 1000,
  };
}

/** `MESH_OAUTH_DEV=1`: client metadata documents may be served over loopback http (docs/oauth.md). */
export const oauthDev = (env: Record<string, unknown>): boolean => env.MESH_OAUTH_DEV === "1";

/** The base URL clients see: `MESH_PUBLIC_URL` (behind a tunnel), else the request's origin. */
export function publicBase(env: Record<string, unknown>, url: URL): string {
  const configured = typeof env.MESH_PUBLIC_URL === "string" ? env.MESH_PUBLIC_URL.trim().replace(/\/+$/, "") : "";
  return configured !== "" && URL.canParse(configured) ? configured : url.origin;
}
