// What the dashboard's grants panel shows (docs/connect-claude-ai.md): the apps connected over OAuth,
// newest first, each with its scope, when it was granted and last used; and what a revoke's answer
// means for its row. Pure, so it is tested without a browser.
import { OAuthGrantList, type OAuthGrantSummary, parseJson } from "../../protocol/index.ts";
import { ago } from "./time-format.ts";

/** The list from `GET /api/oauth/grants`, newest first; null when the body is not that shape. */
export function parseGrantList(body: string): OAuthGrantSummary[] | null {
  const parsed = parseJson(OAuthGrantList, body);
  if (!parsed.ok) return null;
  return [...parsed.value.grants].sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
}

/** One row's texts. */
export type GrantCells = { client: string; scope: string; redirect: string; created: string; lastUsed: string };

export function grantCells(grant: OAuthGrantSummary, nowMs: number): GrantCells {
  return {
    client: grant.client_name,
    scope: grant.scope.join(", "),
    redirect: grant.redirect_host,
    created: ago(grant.created_at, nowMs),
    lastUsed: grant.last_used_at === undefined ? "never" : ago(grant.last_used_at, nowMs),
  };
}

/** What a revoke's answer means: the grant is gone (revoked now, or already gone: 404), or it stays. */
export function revokeOutcome(status: number): "gone" | "kept" {
  return status === 200 || status === 404 ? "gone" : "kept";
}

/** The panel's one-line summary. */
export function grantsSummary(count: number): string {
  return count === 1 ? "1 app connected" : `${count} apps connected`;
}
