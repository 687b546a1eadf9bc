import type { ExecutorTier } from "./ladder.ts";
import { MODEL_PRICES, modelPrice, TIER_DEFAULT_MODELS } from "./prices.ts";

/** USD per million tokens: uncached input, cached input, output. */
export type TokenRates = { input: number; cached: number; output: number };

function ratesOfTier(tier: ExecutorTier): TokenRates {
  const model = TIER_DEFAULT_MODELS[tier];
  // Every default model is listed (a test checks it); the Sonnet price stands in should one not be.
  const price = modelPrice(model) ?? MODEL_PRICES["claude-sonnet-4"] ?? { input: 3, output: 15 };
  return { input: price.input, cached: price.cache_read ?? price.input * 0.1, output: price.output };
}

/**
 * The rates of the model each tier runs by default (prices.ts, the table the agent prices with too).
 * Used to estimate an attempt before the ledger has real costs of its tier (docs/budget.md).
 */
export const tierRates: Record<ExecutorTier, TokenRates> = {
  deepseek: ratesOfTier("deepseek"),
  "gemini-flash": ratesOfTier("gemini-flash"),
  "gemini-pro": ratesOfTier("gemini-pro"),
  codex: ratesOfTier("codex"),
  sonnet: ratesOfTier("sonnet"),
  opus: ratesOfTier("opus"),
};

/** Tokens an attempt is assumed to use before it runs (the budget's reservation); configurable per server. */
export type AttemptTokenEstimate = { input: number; output: number };
export const DEFAULT_ATTEMPT_TOKEN_ESTIMATE: AttemptTokenEstimate = { input: 100_000, output: 10_000 };

/** The reservation for one attempt at `tier`: estimated tokens at the tier's uncached rates. */
export function estimateAttemptUsd(
  tier: ExecutorTier,
  estimate: AttemptTokenEstimate = DEFAULT_ATTEMPT_TOKEN_ESTIMATE,
): number {
  const rates = tierRates[tier];
  return (estimate.input * rates.input + estimate.output * rates.output) / 1_000_000;
}
