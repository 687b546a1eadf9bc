import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ANY, kindsWithout, rejectedFixtures, validFixtures, wireUnions, wireUnionsOf } from "./fixture-corpus.ts";

// Fails when a wire gains a message kind without fixtures, or a fixture outlives its kind.

const unions = wireUnions();
const kinds = new Set(unions.flatMap((union) => union.kinds));
const kindsOf = (fixtures: ReadonlyArray<{ kind: string | undefined }>): Set<string> =>
  new Set(fixtures.flatMap((fixture) => (fixture.kind === undefined ? [] : [fixture.kind])));

describe("wire fixture coverage", () => {
  it("finds the protocol's unions by walking its exports", () => {
    expect(unions.map((union) => union.name)).toEqual(
      expect.arrayContaining(["AgentToRegistry", "AgentToTask", "TaskCommand", "RegistryToAgent"]),
    );
    expect(kinds.size).toBeGreaterThan(25);
  });

  it("has a valid fixture for every message kind of every union", () => {
    expect(kindsWithout(unions, kindsOf(validFixtures(kinds)), "valid")).toEqual([]);
  });

  it("has a rejected fixture for every message kind of every union", () => {
    expect(kindsWithout(unions, kindsOf(rejectedFixtures(kinds)), "rejected")).toEqual([]);
  });

  it("has no fixture named after a kind no wire carries (renamed or removed)", () => {
    const strays = [...validFixtures(kinds), ...rejectedFixtures(kinds)]
      .filter((fixture) => fixture.kind === undefined)
      .map((fixture) => fixture.file);
    expect(strays).toEqual([]);
  });

  it("reports a kind added to a union without a fixture", () => {
    const Grown = z.discriminatedUnion("type", [
      z.object({ type: z.literal("agent.hello") }),
      z.object({ type: z.literal("agent.farewell") }),
    ]);
    const missing = kindsWithout(wireUnionsOf({ Grown }), kindsOf(validFixtures(kinds)), "valid");
    expect(missing).toEqual(["Grown 'agent.farewell': add fixtures/valid/agent.farewell.json"]);
  });

  it("sees every protocol module through protocol/index.ts, so no union escapes the walk", () => {
    const index = readFileSync(new URL("../../protocol/index.ts", import.meta.url), "utf8");
    const modules = readdirSync(new URL("../../protocol/", import.meta.url)).filter(
      (file) => file.endsWith(".ts") && file !== "index.ts",
    );
    expect(modules.filter((file) => !index.includes(`"./${file}"`))).toEqual([]);
  });

  it("keeps 'any.' fixtures for refusals no single kind owns", () => {
    const shared = rejectedFixtures(kinds)
      .filter((fixture) => fixture.kind === ANY)
      .map((fixture) => fixture.expect);
    expect(new Set(shared)).toEqual(new Set(["bad_json", "unknown_type", "bad_message", "message_too_large"]));
  });
});
