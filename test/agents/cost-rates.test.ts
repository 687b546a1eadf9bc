import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RateTable, readRatesFile } from "../../agents/runtime/cost-rates.ts";
import { emptyUsage } from "../../agents/runtime/formats/run-report.ts";

const million = { ...emptyUsage(), input: 1_000_000, output: 1_000_000 };

describe("RateTable", () => {
  it("prices the models the default executors name from the price table", () => {
    const rates = new RateTable();
    expect(rates.rateFor("claude-sonnet-4-5-20250929", "claude")).toMatchObject({ input: 3, output: 15 });
    expect(rates.rateFor("claude-opus-4-5-20251101", "claude")).toMatchObject({ input: 5, output: 25 });
    expect(rates.rateFor("claude-opus-4-1-20250805", "claude")).toMatchObject({ input: 15, output: 75 });
    expect(rates.rateFor("gpt-5.3-codex", "codex")).toMatchObject({ input: 1.75, output: 14 });
    expect(rates.rateFor("gpt-5.1-codex-mini", "codex")).toMatchObject({ input: 0.25, output: 2 });
    expect(rates.rateFor("gemini-2.5-pro", "gemini")).toMatchObject({ input: 1.25, output: 10 });
    expect(rates.rateFor("deepseek/deepseek-v4-flash", "opencode")).toMatchObject({ input: 0.14, output: 0.28 });
  });

  it("falls back to the per-CLI rates for a model it does not know", () => {
    const rates = new RateTable();
    expect(rates.costOf([million], "claude-future-9", "claude")).toBe(18);
    expect(rates.costOf([million], undefined, "codex")).toBe(12.5);
    expect(rates.costOf([million], "gemini-9-ultra", "gemini")).toBe(6.25);
  });

  it("prices each model of a multi-model run at its own rate", () => {
    const cost = new RateTable().costOf(
      [
        { ...million, model: "gemini-2.5-flash" },
        { ...million, model: "gemini-2.5-pro" },
      ],
      undefined,
      "gemini",
    );
    expect(cost).toBeCloseTo(0.3 + 2.5 + 1.25 + 10, 10);
  });

  it("applies the cache multipliers when a rate gives none", () => {
    const usage = { ...emptyUsage(), cacheRead: 1_000_000, cacheWrite: 1_000_000, cacheWrite1h: 1_000_000 };
    expect(new RateTable().costOf([usage], "unknown", "claude")).toBeCloseTo(0.3 + 3.75 + 6, 10);
  });
});

describe("readRatesFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "mesh-rates-"));
  it("overrides a model, adds one, and replaces a CLI's fallback", () => {
    const path = join(dir, "rates.json");
    writeFileSync(
      path,
      JSON.stringify({
        models: { "gpt-5.3-codex": { input: 1, output: 2 }, "my-model": { input: 10, output: 20 } },
        defaults: { gemini: { input: 0, output: 0 } },
      }),
    );
    const read = readRatesFile(path);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.costOf([million], "gpt-5.3-codex", "codex")).toBe(3);
    expect(read.value.costOf([million], "my-model-v2", "claude")).toBe(30);
    expect(read.value.costOf([million], "gemini-unknown", "gemini")).toBe(0);
    expect(read.value.costOf([million], "claude-sonnet-4-5", "claude")).toBe(18);
  });

  it("refuses a bad file, naming the field", () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ models: { x: { input: -1, output: 2 } } }));
    const read = readRatesFile(path);
    expect(read).toEqual({ ok: false, error: { code: "invalid", message: expect.stringContaining("models.x.input") } });
    expect(readRatesFile(join(dir, "missing.json"))).toEqual({
      ok: false,
      error: { code: "absent", message: `rates file ${join(dir, "missing.json")}: no such file` },
    });
  });
});
