// The grants room's state and the pieces its decisions share: storage keys, refusals, audit records,
// grant lookups (docs/oauth.md).
import type {
  AuditAppend,
  OAuthClientRecord,
  OAuthCodeRecord,
  OAuthErrorCode,
  OAuthGrantRecord,
  OAuthGrantSummary,
  OAuthReply,
} from "../../protocol/index.ts";

/** What the grants room holds (docs/oauth.md): registered clients, codes by hash, live grants. */
export type OAuthState = {
  readonly clients: ReadonlyMap<string, OAuthClientRecord>;
  readonly codes: ReadonlyMap<string, OAuthCodeRecord>;
  readonly grants: ReadonlyMap<string, OAuthGrantRecord>;
};

export const emptyOAuthState = (): OAuthState => ({ clients: new Map(), codes: new Map(), grants: new Map() });

/** Values drawn by the room for this command; the logic uses those it needs. */
export type Fresh = {
  client_id: string;
  code: string;
  code_hash: string;
  grant_id: string;
  access: string;
  access_hash: string;
  refresh: string;
  refresh_hash: string;
};

export type OAuthSettings = { codeTtlMs: number; accessTtlS: number; maxClients: number; maxGrants: number };

/** A change to storage: the room writes these keys (`client:`, `code:`, `grant:` + id or hash). */
export type StorageWrite =
  | { put: string; value: OAuthClientRecord | OAuthCodeRecord | OAuthGrantRecord }
  | { delete: string };

export type OAuthOutcome = {
  state: OAuthState;
  reply: OAuthReply;
  writes: StorageWrite[];
  audits: AuditAppend["record"][];
};

export const clientKey = (id: string): string => `client:${id}`;
export const codeKey = (hash: string): string => `code:${hash}`;
export const grantKey = (id: string): string => `grant:${id}`;

export const failure = (error: OAuthErrorCode, description: string, revoked?: string[]): OAuthReply => ({
  ok: false,
  error: { error, error_description: description },
  ...(revoked === undefined ? {} : { revoked }),
});

/** Equal strings, compared in time that does not depend on where they differ. */
export function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

export function audit(client: string, action: string, outcome: string, target?: string): AuditAppend["record"] {
  return {
    role: "oauth_client",
    credential: `oauth:${client}`.slice(0, 200),
    action,
    outcome,
    ...(target === undefined ? {} : { target: target.slice(0, 300) }),
  };
}

export function summarize(grant: OAuthGrantRecord): OAuthGrantSummary {
  let redirectHost = grant.redirect_uri;
  try {
    redirectHost = new URL(grant.redirect_uri).host;
  } catch {
    // kept whole: it was checked as a URL when the code was issued
  }
  return {
    id: grant.id,
    client_id: grant.client_id,
    client_name: grant.client_name,
    scope: grant.scope,
    created_at: grant.created_at,
    ...(grant.last_used_at === undefined ? {} : { last_used_at: grant.last_used_at }),
    redirect_host: redirectHost,
  };
}

export function withoutGrant(state: OAuthState, id: string): OAuthState {
  const grants = new Map(state.grants);
  grants.delete(id);
  return { ...state, grants };
}

/** The grant holding this refresh token, current or rotated away. */
export function grantByRefresh(state: OAuthState, hash: string): { grant: OAuthGrantRecord; current: boolean } | null {
  for (const grant of state.grants.values()) {
    if (grant.refresh_hash === hash) return { grant, current: true };
    if (grant.old_refresh_hashes.includes(hash)) return { grant, current: false };
  }
  return null;
}

export function grantByAccess(state: OAuthState, hash: string): OAuthGrantRecord | null {
  for (const grant of state.grants.values()) if (grant.access_hash === hash) return grant;
  return null;
}
