import type {
  AuditAppend,
  OAuthAccess,
  OAuthClientRecord,
  OAuthCodeRecord,
  OAuthCommand,
  OAuthErrorCode,
  OAuthGrantRecord,
  OAuthGrantSummary,
  OAuthReply,
  OAuthScope,
} from "../../protocol/index.ts";

/**
 * The grants room's logic (docs/oauth.md), a pure function of state and command: codes are single-use
 * and short-lived, refresh tokens rotate and a reused old one revokes its grant, and a code used twice
 * revokes what its first use made. Random values come in with the command (`Fresh`), already hashed
 * where they are stored, so tests run it on a fake clock with known tokens.
 */
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

/** How long a used or expired code is remembered, so its replay is recognised (and revokes its grant). */
const CODE_MEMORY_MS = 10 * 60_000;
/** A grant's last use is written at most this often: a busy client costs no write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const clientKey = (id: string): string => `client:${id}`;
export const codeKey = (hash: string): string => `code:${hash}`;
export const grantKey = (id: string): string => `grant:${id}`;

const failure = (error: OAuthErrorCode, description: string, revoked?: string[]): OAuthReply => ({
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

function audit(client: string, action: string, outcome: string, target?: string): AuditAppend["record"] {
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

function withoutGrant(state: OAuthState, id: string): OAuthState {
  const grants = new Map(state.grants);
  grants.delete(id);
  return { ...state, grants };
}

/** Forgets codes past their memory: called on every command, so storage holds a bounded few. */
function pruneCodes(state: OAuthState, now: number): { state: OAuthState; writes: StorageWrite[] } {
  const stale = [...state.codes.values()].filter((code) => code.expires_at + CODE_MEMORY_MS < now);
  if (stale.length === 0) return { state, writes: [] };
  const codes = new Map(state.codes);
  for (const code of stale) codes.delete(code.code_hash);
  return { state: { ...state, codes }, writes: stale.map((code) => ({ delete: codeKey(code.code_hash) })) };
}

/** The grant holding this refresh token, current or rotated away. */
function grantByRefresh(state: OAuthState, hash: string): { grant: OAuthGrantRecord; current: boolean } | null {
  for (const grant of state.grants.values()) {
    if (grant.refresh_hash === hash) return { grant, current: true };
    if (grant.old_refresh_hashes.includes(hash)) return { grant, current: false };
  }
  return null;
}

function grantByAccess(state: OAuthState, hash: string): OAuthGrantRecord | null {
  for (const grant of state.grants.values()) if (grant.access_hash === hash) return grant;
  return null;
}

/** Applies one command. */
export function decideOAuth(
  before: OAuthState,
  command: OAuthCommand,
  now: number,
  fresh: Fresh,
  settings: OAuthSettings,
): OAuthOutcome {
  const pruned = pruneCodes(before, now);
  const outcome = decide(pruned.state, command, now, fresh, settings);
  return { ...outcome, writes: [...pruned.writes, ...outcome.writes] };
}

function decide(
  state: OAuthState,
  command: OAuthCommand,
  now: number,
  fresh: Fresh,
  settings: OAuthSettings,
): OAuthOutcome {
  const same = (reply: OAuthReply, audits: AuditAppend["record"][] = []): OAuthOutcome => ({
    state,
    reply,
    writes: [],
    audits,
  });
  switch (command.type) {
    case "client.register": {
      if (state.clients.size >= settings.maxClients)
        return same(
          failure(
            "invalid_client_metadata",
            `this mesh holds ${settings.maxClients} registered clients already; an operator must clear the grants room`,
          ),
          [audit("unregistered", "oauth.register", "too_many_clients")],
        );
      const client: OAuthClientRecord = {
        client_id: fresh.client_id,
        client_name: command.client_name,
        redirect_uris: command.redirect_uris,
        created_at: now,
        auth_method: command.auth_method,
        ...(command.secret_hash === undefined ? {} : { secret_hash: command.secret_hash }),
      };
      const clients = new Map(state.clients).set(client.client_id, client);
      return {
        state: { ...state, clients },
        reply: { ok: true, client },
        writes: [{ put: clientKey(client.client_id), value: client }],
        audits: [audit(client.client_id, "oauth.register", "ok", client.client_name)],
      };
    }
    case "client.get": {
      const client = state.clients.get(command.client_id);
      return same(
        client === undefined
          ? failure("invalid_client", `no client ${command.client_id} is registered here; register at /oauth/register`)
          : { ok: true, client },
      );
    }
    case "code.issue": {
      const code: OAuthCodeRecord = {
        code_hash: fresh.code_hash,
        client_id: command.client_id,
        client_name: command.client_name,
        redirect_uri: command.redirect_uri,
        code_challenge: command.code_challenge,
        scope: command.scope,
        resource: command.resource,
        approved_by: command.approved_by,
        created_at: now,
        expires_at: now + settings.codeTtlMs,
        used: false,
      };
      const codes = new Map(state.codes).set(code.code_hash, code);
      return {
        state: { ...state, codes },
        reply: { ok: true, code: fresh.code, expires_at: code.expires_at },
        writes: [{ put: codeKey(code.code_hash), value: code }],
        audits: [],
      };
    }
    case "token.code":
      return redeemCode(state, command, now, fresh, settings);
    case "token.refresh":
      return refresh(state, command, now, fresh, settings);
    case "token.revoke": {
      const grant =
        grantByAccess(state, command.token_hash) ?? grantByRefresh(state, command.token_hash)?.grant ?? null;
      // RFC 7009 §2.2: an unknown or already revoked token is answered 200 too.
      if (grant === null) return same({ ok: true, revoked: [] }, [audit("unknown", "oauth.revoke", "unknown_token")]);
      return {
        state: withoutGrant(state, grant.id),
        reply: { ok: true, revoked: [grant.id] },
        writes: [{ delete: grantKey(grant.id) }],
        audits: [audit(grant.client_id, "oauth.revoke", "ok", grant.id)],
      };
    }
    case "access.verify": {
      const grant = grantByAccess(state, command.access_hash);
      if (grant === null)
        return same(
          failure("invalid_token", "the access token is unknown, revoked or rotated away; authorize again or refresh"),
          [audit("unknown", "oauth.access", "invalid_token")],
        );
      if (grant.access_expires_at <= now)
        return same(failure("invalid_token", "the access token expired; refresh it"), [
          audit(grant.client_id, "oauth.access", "expired", grant.id),
        ]);
      if (grant.resource !== command.resource)
        return same(failure("invalid_token", `this token opens ${grant.resource} only, not ${command.resource}`), [
          audit(grant.client_id, "oauth.access", "wrong_resource", grant.id),
        ]);
      const access: OAuthAccess = {
        grant_id: grant.id,
        client_id: grant.client_id,
        client_name: grant.client_name,
        scope: grant.scope,
      };
      if (grant.last_used_at !== undefined && now - grant.last_used_at < LAST_USED_RESOLUTION_MS)
        return same({ ok: true, access });
      const used: OAuthGrantRecord = { ...grant, last_used_at: now };
      return {
        state: { ...state, grants: new Map(state.grants).set(used.id, used) },
        reply: { ok: true, access },
        writes: [{ put: grantKey(used.id), value: used }],
        audits: [],
      };
    }
    case "grants.list":
      return same({
        ok: true,
        grants: [...state.grants.values()].sort((a, b) => b.created_at - a.created_at).map(summarize),
      });
    case "grant.delete": {
      const grant = state.grants.get(command.id);
      if (grant === undefined) return same(failure("invalid_request", `no live grant ${command.id}`));
      return {
        state: withoutGrant(state, grant.id),
        reply: { ok: true, revoked: [grant.id] },
        writes: [{ delete: grantKey(grant.id) }],
        audits: [],
      };
    }
  }
}

function issueGrant(
  state: OAuthState,
  code: OAuthCodeRecord,
  now: number,
  fresh: Fresh,
  settings: OAuthSettings,
): OAuthOutcome {
  const grant: OAuthGrantRecord = {
    id: fresh.grant_id,
    client_id: code.client_id,
    client_name: code.client_name,
    redirect_uri: code.redirect_uri,
    scope: code.scope,
    resource: code.resource,
    approved_by: code.approved_by,
    created_at: now,
    code_hash: code.code_hash,
    access_hash: fresh.access_hash,
    access_expires_at: now + settings.accessTtlS * 1000,
    refresh_hash: fresh.refresh_hash,
    old_refresh_hashes: [],
  };
  const used: OAuthCodeRecord = { ...code, used: true, grant_id: grant.id };
  const next: OAuthState = {
    ...state,
    codes: new Map(state.codes).set(used.code_hash, used),
    grants: new Map(state.grants).set(grant.id, grant),
  };
  return {
    state: next,
    reply: {
      ok: true,
      tokens: {
        access_token: fresh.access,
        token_type: "Bearer",
        expires_in: settings.accessTtlS,
        refresh_token: fresh.refresh,
        scope: grant.scope.join(" "),
      },
      grant_id: grant.id,
      client_name: grant.client_name,
    },
    writes: [
      { put: codeKey(used.code_hash), value: used },
      { put: grantKey(grant.id), value: grant },
    ],
    audits: [audit(grant.client_id, "oauth.token", "ok", grant.id)],
  };
}

function redeemCode(
  state: OAuthState,
  command: Extract<OAuthCommand, { type: "token.code" }>,
  now: number,
  fresh: Fresh,
  settings: OAuthSettings,
): OAuthOutcome {
  const code = state.codes.get(command.code_hash);
  const refused = (reason: string, description: string, extra: Partial<OAuthOutcome> = {}): OAuthOutcome => ({
    state,
    writes: [],
    ...extra,
    reply: failure(
      "invalid_grant",
      description,
      extra.reply !== undefined && !extra.reply.ok ? extra.reply.revoked : undefined,
    ),
    audits: [audit(command.client_id, "oauth.token", reason, code?.grant_id)],
  });
  if (code === undefined) return refused("invalid_grant", "the code is unknown or long expired; authorize again");
  if (code.used) {
    // A code used twice was seen by someone else: what its first use made is revoked (RFC 6749 §4.1.2).
    const revoked = code.grant_id !== undefined && state.grants.has(code.grant_id) ? [code.grant_id] : [];
    const next = revoked.length > 0 && code.grant_id !== undefined ? withoutGrant(state, code.grant_id) : state;
    return refused(
      "code_replay",
      `the code was already used${revoked.length > 0 ? "; the grant it made is revoked" : ""}; authorize again`,
      {
        state: next,
        writes: revoked.map((id) => ({ delete: grantKey(id) })),
        reply: failure("invalid_grant", "", revoked),
      },
    );
  }
  // Any redemption attempt spends the code: a wrong verifier cannot be retried against it.
  const spent: OAuthCodeRecord = { ...code, used: true };
  const spend = {
    state: { ...state, codes: new Map(state.codes).set(code.code_hash, spent) },
    writes: [{ put: codeKey(code.code_hash), value: spent }],
  };
  if (code.expires_at <= now)
    return refused(
      "code_expired",
      `the code expired (codes live ${Math.round(settings.codeTtlMs / 1000)} s); authorize again`,
      spend,
    );
  if (code.client_id !== command.client_id)
    return refused("wrong_client", "the code was issued to another client", spend);
  if (code.redirect_uri !== command.redirect_uri)
    return refused("wrong_redirect_uri", "redirect_uri differs from the one of the authorization request", spend);
  if (!sameText(code.code_challenge, command.verifier_challenge))
    return refused("wrong_code_verifier", "the code_verifier does not match the code_challenge (S256)", spend);
  if (code.resource !== command.resource)
    return refused("wrong_resource", `the code was issued for ${code.resource}, not ${command.resource}`, spend);
  if (state.grants.size >= settings.maxGrants)
    return refused(
      "too_many_grants",
      `this mesh holds ${settings.maxGrants} grants; revoke some (DELETE /api/oauth/grants/<id>)`,
      spend,
    );
  return issueGrant(spend.state, code, now, fresh, settings);
}

function refresh(
  state: OAuthState,
  command: Extract<OAuthCommand, { type: "token.refresh" }>,
  now: number,
  fresh: Fresh,
  settings: OAuthSettings,
): OAuthOutcome {
  const found = grantByRefresh(state, command.refresh_hash);
  const refused = (reason: string, error: OAuthErrorCode, description: string, target?: string): OAuthOutcome => ({
    state,
    writes: [],
    reply: failure(error, description),
    audits: [audit(command.client_id, "oauth.refresh", reason, target)],
  });
  if (found === null)
    return refused(
      "invalid_grant",
      "invalid_grant",
      "the refresh token is unknown or its grant was revoked; authorize again",
    );
  const { grant } = found;
  if (grant.client_id !== command.client_id)
    return refused("wrong_client", "invalid_grant", "the refresh token was issued to another client", grant.id);
  if (!found.current) {
    // A rotated-away refresh token came back: one of two holders is not the client, so neither keeps the grant.
    return {
      state: withoutGrant(state, grant.id),
      writes: [{ delete: grantKey(grant.id) }],
      reply: failure(
        "invalid_grant",
        "this refresh token was already used; the whole grant is revoked, authorize again",
        [grant.id],
      ),
      audits: [audit(command.client_id, "oauth.refresh", "refresh_replay", grant.id)],
    };
  }
  if (grant.resource !== command.resource)
    return refused(
      "wrong_resource",
      "invalid_target",
      `the grant is for ${grant.resource}, not ${command.resource}`,
      grant.id,
    );
  const scope: OAuthScope[] = command.scope ?? grant.scope;
  if (!scope.every((s) => grant.scope.includes(s)) || scope.length === 0)
    return refused(
      "invalid_scope",
      "invalid_scope",
      `a refresh may only keep or narrow the grant's scope (${grant.scope.join(" ")})`,
      grant.id,
    );
  const rotated: OAuthGrantRecord = {
    ...grant,
    scope,
    access_hash: fresh.access_hash,
    access_expires_at: now + settings.accessTtlS * 1000,
    refresh_hash: fresh.refresh_hash,
    old_refresh_hashes: [...grant.old_refresh_hashes, grant.refresh_hash].slice(-50),
    last_used_at: now,
  };
  return {
    state: { ...state, grants: new Map(state.grants).set(rotated.id, rotated) },
    reply: {
      ok: true,
      tokens: {
        access_token: fresh.access,
        token_type: "Bearer",
        expires_in: settings.accessTtlS,
        refresh_token: fresh.refresh,
        scope: scope.join(" "),
      },
      grant_id: grant.id,
      client_name: grant.client_name,
    },
    writes: [{ put: grantKey(rotated.id), value: rotated }],
    audits: [audit(grant.client_id, "oauth.refresh", "ok", grant.id)],
  };
}
