import { describe, expect, it } from "vitest";
import { AgentToTask, parseMessage } from "../../protocol/index.ts";
import { ANY, rejectedFixtures, validFixtures, type WireUnion, wireUnions } from "./fixture-corpus.ts";

// Walks the corpus in fixtures/ (its layout is described in fixture-corpus.ts) against every wire.

const unions = wireUnions();
const kinds = new Set(unions.flatMap((union) => union.kinds));
const carriersOf = (kind: string | undefined): WireUnion[] =>
  kind === ANY ? unions : unions.filter((union) => kind !== undefined && union.kinds.includes(kind));

describe("valid wire fixtures", () => {
  it.each(validFixtures(kinds).map((fixture) => [fixture.file, fixture] as const))(
    "%s parses, unchanged, on every wire that carries its kind",
    (_file, fixture) => {
      expect(fixture.kind, "the file name starts with no kind any wire carries").toBeDefined();
      expect(fixture.message).toMatchObject({ type: fixture.kind });
      for (const union of carriersOf(fixture.kind)) {
        // Unchanged: a misspelled optional field would be stripped silently and pin nothing.
        expect(parseMessage(union.schema, JSON.stringify(fixture.message)), union.name).toEqual({
          ok: true,
          value: fixture.message,
        });
      }
    },
  );
});

describe("rejected wire fixtures", () => {
  it.each(rejectedFixtures(kinds).map((fixture) => [fixture.file, fixture] as const))(
    "%s is refused with its code on every wire that carries its kind",
    (_file, fixture) => {
      expect(fixture.kind, "the file name starts with no kind any wire carries, nor 'any.'").toBeDefined();
      for (const union of carriersOf(fixture.kind)) {
        const parsed = parseMessage(union.schema, fixture.frame);
        expect(parsed, `${union.name}: ${fixture.why}`).toMatchObject({ ok: false, error: { code: fixture.expect } });
        if (parsed.ok) continue;
        // Refused for the reason the fixture claims: its kind was recognised and the named field failed.
        if (fixture.expect === "bad_message" && fixture.kind !== ANY)
          expect(parsed.error.in_reply_to, union.name).toBe(fixture.kind);
        if (fixture.field !== undefined) expect(parsed.error.message, union.name).toContain(`: ${fixture.field}: `);
      }
    },
  );

  it("refuses binary frames", () => {
    expect(parseMessage(AgentToTask, new Uint8Array([1, 2]))).toMatchObject({
      ok: false,
      error: { code: "bad_message" },
    });
  });
});
