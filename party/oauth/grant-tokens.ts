// Redeeming a code and rotating a refresh token (docs/oauth.md): a code is spent by any redemption
// attempt and a reused one revokes what its first use made; a rotated-away refresh token revokes its grant.
import type {
  OAuthCodeRecord,
  OAuthCommand,
  OAuthErrorCode,
  OAuthGrantRecord,
  OAuthScope,
} from "../../protocol/index.ts";
import {
  audit,
  codeKey,
  type Fresh,
  failure,
  grantByRefresh,
  grantKey,
  type OAuthOutcome,
  type OAuthSettings,
  type OAuthState,
  sameText,
  withoutGrant,
} from "./grant-state.ts";

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

export function redeemCode(
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

export function refreshGrant(
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
