// The grants panel's logic: the list parsed (a wrong shape refused, not shown half), newest first, each
// row's texts, and which revoke answers remove the row.
import { describe, expect, it } from "vitest";
import { grantCells, grantsSummary, parseGrantList, revokeOutcome } from "../../web/src/grants-model.ts";

const NOW = 1_800_000_000_000;
const grant = (id: string, created_at: number, extra: Record<string, unknown> = {}) => ({
  id,
  client_id: `client-${id}`,
  client_name: `App ${id}`,
  scope: ["mesh:orchestrate"],
  created_at,
  redirect_host: "claude.ai",
  ...extra,
});

describe("the grants list", () => {
  it("is parsed newest first", () => {
    const body = JSON.stringify({
      grants: [grant("a", NOW - 90_000), grant("b", NOW - 5_000), grant("c", NOW - 3_600_000)],
    });
    expect(parseGrantList(body)?.map((g) => g.id)).toEqual(["b", "a", "c"]);
  });

  it("refuses a body that is not the list: not JSON, a grant without an id, an unknown scope", () => {
    expect(parseGrantList("<html>")).toBeNull();
    expect(parseGrantList(JSON.stringify({ grants: [{ ...grant("a", NOW), id: undefined }] }))).toBeNull();
    expect(parseGrantList(JSON.stringify({ grants: [grant("a", NOW, { scope: ["admin"] })] }))).toBeNull();
    expect(parseGrantList(JSON.stringify({ error: { code: "unauthorized", message: "no" } }))).toBeNull();
    expect(parseGrantList(JSON.stringify({ grants: [] }))).toEqual([]);
  });

  it("shows the client, scope, where the code went, and the ages; never used says so", () => {
    const [fresh] =
      parseGrantList(
        JSON.stringify({ grants: [grant("a", NOW - 120_000, { scope: ["mesh:orchestrate", "mesh:read"] })] }),
      ) ?? [];
    expect(fresh && grantCells(fresh, NOW)).toEqual({
      client: "App a",
      scope: "mesh:orchestrate, mesh:read",
      redirect: "claude.ai",
      created: "2m ago",
      lastUsed: "never",
    });
    const [used] =
      parseGrantList(JSON.stringify({ grants: [grant("b", NOW - 7_200_000, { last_used_at: NOW - 30_000 })] })) ?? [];
    expect(used && grantCells(used, NOW).lastUsed).toBe("30s ago");
  });

  it("removes the row when the grant is revoked or already gone, and keeps it on any refusal", () => {
    expect([200, 404].map(revokeOutcome)).toEqual(["gone", "gone"]);
    expect([401, 403, 500, 503].map(revokeOutcome)).toEqual(["kept", "kept", "kept", "kept"]);
  });

  it("counts apps in words", () => {
    expect([0, 1, 2].map(grantsSummary)).toEqual(["0 apps connected", "1 app connected", "2 apps connected"]);
  });
});
