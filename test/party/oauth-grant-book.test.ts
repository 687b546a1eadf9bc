// The grants room's pure logic (party/oauth/grant-book.ts) on a fake clock with known tokens: codes are
// single-use and expire, a replayed code revokes its grant, refresh rotation is strict, revocation and
// audience checks hold.
import { describe, expect, it } from "vitest";
import { decideOAuth } from "../../party/oauth/grant-book.ts";
import {
  emptyOAuthState,
  type Fresh,
  type OAuthSettings,
  type OAuthState,
  sameText,
} from "../../party/oauth/grant-state.ts";
import type { OAuthCommand, OAuthReply } from "../../protocol/index.ts";

const SETTINGS: OAuthSettings = { codeTtlMs: 60_000, accessTtlS: 3600, maxClients: 3, maxGrants: 10 };
const RESOURCE = "https://mesh.example/mcp";
let counter = 0;

/** Distinct values per command, with "hashes" that are just marked copies: the logic never hashes. */
function fresh(): Fresh {
  counter += 1;
  return {
    client_id: `mcl_${counter}`,
    grant_id: `g_${counter}`,
    code: `mac_${counter}`,
    code_hash: `h(mac_${counter})`,
    access: `mat_${counter}`,
    access_hash: `h(mat_${counter})`,
    refresh: `mrt_${counter}`,
    refresh_hash: `h(mrt_${counter})`,
  };
}

/** Runs commands in order; returns the final state and each reply. */
function run(
  state: OAuthState,
  steps: Array<[OAuthCommand, number]>,
): { state: OAuthState; replies: OAuthReply[]; audits: string[] } {
  const replies: OAuthReply[] = [];
  const audits: string[] = [];
  for (const [command, now] of steps) {
    const outcome = decideOAuth(state, command, now, fresh(), SETTINGS);
    state = outcome.state;
    replies.push(outcome.reply);
    audits.push(...outcome.audits.map((record) => `${record.action}:${record.outcome}`));
  }
  return { state, replies, audits };
}

const issue = (client = "mcl_c"): OAuthCommand => ({
  type: "code.issue",
  client_id: client,
  client_name: "C",
  redirect_uri: "https://c.example/cb",
  code_challenge: "challenge",
  scope: ["mesh:orchestrate"],
  resource: RESOURCE,
  approved_by: "orchestrator",
});
const redeem = (
  code: string,
  overrides: Partial<Extract<OAuthCommand, { type: "token.code" }>> = {},
): OAuthCommand => ({
  type: "token.code",
  code_hash: `h(${code})`,
  client_id: "mcl_c",
  redirect_uri: "https://c.example/cb",
  verifier_challenge: "challenge",
  resource: RESOURCE,
  ...overrides,
});
const refresh = (token: string, client = "mcl_c"): OAuthCommand => ({
  type: "token.refresh",
  refresh_hash: `h(${token})`,
  client_id: client,
  resource: RESOURCE,
});
const verify = (token: string, resource = RESOURCE): OAuthCommand => ({
  type: "access.verify",
  access_hash: `h(${token})`,
  resource,
});

function codeOf(reply: OAuthReply | undefined): string {
  if (reply === undefined || !reply.ok || !("code" in reply)) throw new Error(`no code in ${JSON.stringify(reply)}`);
  return reply.code;
}
function tokensOf(reply: OAuthReply | undefined): { access_token: string; refresh_token: string } {
  if (reply === undefined || !reply.ok || !("tokens" in reply))
    throw new Error(`no tokens in ${JSON.stringify(reply)}`);
  return reply.tokens;
}
const errorOf = (reply: OAuthReply | undefined): string | undefined =>
  reply !== undefined && !reply.ok ? reply.error.error : undefined;

/** A state with one redeemed code: its grant's tokens. */
function granted(): { state: OAuthState; code: string; access: string; refresh: string } {
  const issued = run(emptyOAuthState(), [[issue(), 0]]);
  const code = codeOf(issued.replies[0]);
  const redeemed = run(issued.state, [[redeem(code), 1000]]);
  const tokens = tokensOf(redeemed.replies[0]);
  return { state: redeemed.state, code, access: tokens.access_token, refresh: tokens.refresh_token };
}

describe("codes", () => {
  it("redeem once into a grant whose access token opens its resource", () => {
    const { state, access } = granted();
    expect(state.grants.size).toBe(1);
    const checked = run(state, [[verify(access), 2000]]);
    expect(checked.replies[0]).toMatchObject({ ok: true, access: { client_id: "mcl_c", scope: ["mesh:orchestrate"] } });
  });

  it("a second use is invalid_grant and revokes the grant the first use made", () => {
    const { state, code, access } = granted();
    const again = run(state, [
      [redeem(code), 2000],
      [verify(access), 2001],
    ]);
    expect(errorOf(again.replies[0])).toBe("invalid_grant");
    expect(again.replies[0]).toMatchObject({ revoked: [expect.stringMatching(/^g_/)] });
    expect(again.state.grants.size).toBe(0);
    expect(errorOf(again.replies[1])).toBe("invalid_token");
    expect(again.audits).toContain("oauth.token:code_replay");
  });

  it("expire after the code lifetime, and a wrong verifier, client or redirect spends the code", () => {
    const issued = run(emptyOAuthState(), [[issue(), 0]]);
    const code = codeOf(issued.replies[0]);
    expect(errorOf(run(issued.state, [[redeem(code), 60_000]]).replies[0])).toBe("invalid_grant");
    for (const wrong of [
      { verifier_challenge: "other" },
      { client_id: "mcl_x" },
      { redirect_uri: "https://c.example/other" },
      { resource: "https://other/mcp" },
    ]) {
      const tried = run(issued.state, [
        [redeem(code, wrong), 10],
        [redeem(code), 20],
      ]);
      expect(errorOf(tried.replies[0])).toBe("invalid_grant");
      expect(errorOf(tried.replies[1])).toBe("invalid_grant");
      expect(tried.state.grants.size).toBe(0);
    }
    expect(run(issued.state, [[redeem(code), 59_999]]).state.grants.size).toBe(1);
  });

  it("an unknown code is invalid_grant, and codes are forgotten ten minutes after they expire", () => {
    expect(errorOf(run(emptyOAuthState(), [[redeem("mac_none"), 0]]).replies[0])).toBe("invalid_grant");
    const issued = run(emptyOAuthState(), [[issue(), 0]]);
    const later = decideOAuth(issued.state, { type: "grants.list" }, 60_000 + 10 * 60_000 + 1, fresh(), SETTINGS);
    expect(later.state.codes.size).toBe(0);
    expect(later.writes.some((write) => "delete" in write && write.delete.startsWith("code:"))).toBe(true);
  });
});

describe("refresh tokens", () => {
  it("rotate: the new pair works, the old access token does not", () => {
    const { state, access, refresh: first } = granted();
    const rotated = run(state, [[refresh(first), 5000]]);
    const next = tokensOf(rotated.replies[0]);
    expect(next.refresh_token).not.toBe(first);
    const checks = run(rotated.state, [
      [verify(access), 5001],
      [verify(next.access_token), 5002],
      [refresh(next.refresh_token), 5003],
    ]);
    expect(errorOf(checks.replies[0])).toBe("invalid_token");
    expect(checks.replies[1]?.ok).toBe(true);
    expect(checks.replies[2]?.ok).toBe(true);
  });

  it("a reused old one revokes the whole grant", () => {
    const { state, refresh: first } = granted();
    const rotated = run(state, [[refresh(first), 5000]]);
    const next = tokensOf(rotated.replies[0]);
    const replay = run(rotated.state, [
      [refresh(first), 6000],
      [refresh(next.refresh_token), 6001],
      [verify(next.access_token), 6002],
    ]);
    expect(errorOf(replay.replies[0])).toBe("invalid_grant");
    expect(replay.state.grants.size).toBe(0);
    expect(errorOf(replay.replies[1])).toBe("invalid_grant");
    expect(errorOf(replay.replies[2])).toBe("invalid_token");
    expect(replay.audits).toContain("oauth.refresh:refresh_replay");
  });

  it("belong to their client and may only narrow the scope", () => {
    const { state, refresh: first } = granted();
    expect(errorOf(run(state, [[refresh(first, "mcl_other"), 5000]]).replies[0])).toBe("invalid_grant");
    expect(errorOf(run(state, [[{ ...refresh(first), scope: ["mesh:read"] } as OAuthCommand, 5000]]).replies[0])).toBe(
      "invalid_scope",
    );
  });
});

describe("access and revocation", () => {
  it("an access token is refused for another resource and after it expires", () => {
    const { state, access } = granted();
    expect(errorOf(run(state, [[verify(access, "https://other.example/mcp"), 2000]]).replies[0])).toBe("invalid_token");
    expect(errorOf(run(state, [[verify(access), 1000 + 3600 * 1000]]).replies[0])).toBe("invalid_token");
  });

  it("revoking either token ends the grant; an unknown token is answered ok (RFC 7009)", () => {
    const { state, access, refresh: token } = granted();
    for (const presented of [access, token]) {
      const revoked = run(state, [
        [{ type: "token.revoke", token_hash: `h(${presented})` }, 2000],
        [verify(access), 2001],
      ]);
      expect(revoked.state.grants.size).toBe(0);
      expect(errorOf(revoked.replies[1])).toBe("invalid_token");
    }
    expect(run(state, [[{ type: "token.revoke", token_hash: "h(nothing)" }, 2000]]).replies[0]).toEqual({
      ok: true,
      revoked: [],
    });
  });

  it("grants are listed without secrets and deleted by id", () => {
    const { state, access } = granted();
    const used = run(state, [
      [verify(access), 90_000],
      [{ type: "grants.list" }, 90_001],
    ]);
    const listed = used.replies[1];
    expect(listed).toMatchObject({
      ok: true,
      grants: [
        {
          client_id: "mcl_c",
          client_name: "C",
          scope: ["mesh:orchestrate"],
          created_at: 1000,
          last_used_at: 90_000,
          redirect_host: "c.example",
        },
      ],
    });
    expect(JSON.stringify(listed)).not.toMatch(/mat_|mrt_|h\(/);
    const id = listed?.ok && "grants" in listed ? (listed.grants[0]?.id ?? "") : "";
    const deleted = run(used.state, [
      [{ type: "grant.delete", id }, 90_002],
      [{ type: "grant.delete", id }, 90_003],
    ]);
    expect(deleted.replies[0]).toEqual({ ok: true, revoked: [id] });
    expect(deleted.replies[1]?.ok).toBe(false);
  });

  it("registration is bounded", () => {
    const register: OAuthCommand = {
      type: "client.register",
      client_name: "n",
      redirect_uris: ["https://n.example/cb"],
      auth_method: "none",
    };
    const many = run(emptyOAuthState(), [
      [register, 0],
      [register, 1],
      [register, 2],
      [register, 3],
    ]);
    expect(many.state.clients.size).toBe(3);
    expect(errorOf(many.replies[3])).toBe("invalid_client_metadata");
  });

  it("compares texts whole", () => {
    expect(sameText("abc", "abc")).toBe(true);
    expect(sameText("abc", "abd")).toBe(false);
    expect(sameText("abc", "abcd")).toBe(false);
    expect(sameText("", "a")).toBe(false);
  });
});
