// The grants room's logic (docs/oauth.md), a pure function of state and command: codes are single-use
// and short-lived, refresh tokens rotate and a reused old one revokes its grant, and a code used twice
// revokes what its first use made. Random values come in with the command (`Fresh`), already hashed
// where they are stored, so tests run it on a fake clock with known tokens.
import type {
  AuditAppend,
  OAuthAccess,
  OAuthClientRecord,
  OAuthCodeRecord,
  OAuthCommand,
  OAuthGrantRecord,
  OAuthReply,
} from "../../protocol/index.ts";
import {
  audit,
  clientKey,
  codeKey,
  type Fresh,
  failure,
  grantByAccess,
  grantByRefresh,
  grantKey,
  type OAuthOutcome,
  type OAuthSettings,
  type OAuthState,
  type StorageWrite,
  summarize,
  withoutGrant,
} from "./grant-state.ts";
import { redeemCode, refreshGrant } from "./grant-tokens.ts";

/** How long a used or expired code is remembered, so its replay is recognised (and revokes its grant). */
const CODE_MEMORY_MS = 10 * 60_000;
/** A grant's last use is written at most this often: a busy client costs no write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Forgets codes past their memory: called on every command, so storage holds a bounded few. */
function pruneCodes(state: OAuthState, now: number): { state: OAuthState; writes: StorageWrite[] } {
  const stale = [...state.codes.values()].filter((code) => code.expires_at + CODE_MEMORY_MS < now);
  if (stale.length === 0) return { state, writes: [] };
  const codes = new Map(state.codes);
  for (const code of stale) codes.delete(code.code_hash);
  return { state: { ...state, codes }, writes: stale.map((code) => ({ delete: codeKey(code.code_hash) })) };
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
      return refreshGrant(state, command, now, fresh, settings);
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
