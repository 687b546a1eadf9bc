import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { familyOfFormat, RateTable } from "../../agents/runtime/cost-rates.ts";
import { modelFromCommand } from "../../agents/runtime/model-from-command.ts";
import {
  ExecutorsFile,
  ExecutorTier,
  estimateAttemptUsd,
  MODEL_PRICES,
  modelKey,
  modelPrice,
  TIER_DEFAULT_MODELS,
  tierRates,
} from "../../protocol/index.ts";

// One price table (docs/budget.md): the budget reserves each tier at the price the agent charges for
// the model that tier runs in the shipped executors files.

const shipped = ["agents/vm/executors.json", "agents/mac/executors.json"].map((path) => ({
  path,
  file: ExecutorsFile.parse(JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), "utf8"))),
}));
/** Claude's model aliases name the current model of a family. */
const CLAUDE_ALIASES: Record<string, string> = { sonnet: "claude-sonnet-4", opus: "claude-opus-4-5" };

describe("one price table", () => {
  it("names, for every tier, the model the shipped executors files run", () => {
    for (const { path, file } of shipped) {
      for (const tier of ExecutorTier.options) {
        const command = file.executors[tier]?.command ?? [];
        const named = modelFromCommand(command);
        expect(named, `${path} ${tier}`).toBeDefined();
        const model = modelKey(named ?? "");
        const expected = CLAUDE_ALIASES[model] ?? model;
        expect(TIER_DEFAULT_MODELS[tier].startsWith(expected), `${path} ${tier} runs ${named}`).toBe(true);
      }
    }
  });

  it("reserves every tier at the rates the agent prices that tier's model with", () => {
    const agent = new RateTable();
    const executors = shipped[0]?.file.executors;
    for (const tier of ExecutorTier.options) {
      const format = executors?.[tier]?.format ?? "text";
      const family = familyOfFormat[format];
      if (family === undefined) throw new Error(`${tier}: no CLI family for ${format}`);
      const rate = agent.rateFor(TIER_DEFAULT_MODELS[tier], family);
      expect({ tier, input: rate.input, output: rate.output, cached: rate.cache_read ?? rate.input * 0.1 }).toEqual({
        tier,
        ...tierRates[tier],
      });
    }
  });

  it("prices codex at gpt-5.5's $5/$30, not the seeds' $2.5/$10", () => {
    expect(tierRates.codex).toEqual({ input: 5, cached: 0.5, output: 30 });
    expect(estimateAttemptUsd("codex")).toBeCloseTo(0.8, 10);
    expect(modelPrice("openai/gpt-5.5-2026-04")).toEqual(MODEL_PRICES["gpt-5.5"]);
    expect(modelPrice("an-unknown-model")).toBeUndefined();
  });
});
