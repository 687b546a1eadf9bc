import type { ExecutorTier } from "./ladder.ts";

/** USD per million tokens: uncached input, cached input, output. */
export type TokenRates = { input: number; cached: number; output: number };

/**
 * List rates of the model each tier runs by default (shared/cli-formats/PRICES.md, 2026-11-22):
 * deepseek-v4-flash, gemini-2.5-flash, gemini-2.5-pro, Codex at the seed's $2.5/$10, Sonnet 4.5, Opus 4.5.
 * Used to estimate an attempt before it runs, and to price a run whose CLI reports no cost.
 */
export const tierRates: Record<ExecutorTier, TokenRates> = {
  deepseek: { input: 0.14, cached: 0.0028, output: 0.28 },
  "gemini-flash": { input: 0.3, cached: 0.03, output: 2.5 },
  "gemini-pro": { input: 1.25, cached: 0.125, output: 10 },
  codex: { input: 2.5, cached: 0.25, output: 10 },
  sonnet: { input: 3, cached: 0.3, output: 15 },
  opus: { input: 5, cached: 0.5, output: 25 },
};

/** Tokens an attempt is assumed to use before it runs (the budget's reservation); configurable per server. */
export type AttemptTokenEstimate = { input: number; output: number };
export const DEFAULT_ATTEMPT_TOKEN_ESTIMATE: AttemptTokenEstimate = { input: 100_000, output: 10_000 };

/** The reservation for one attempt at `tier`: estimated tokens at the tier's uncached rates. */
export function estimateAttemptUsd(tier: ExecutorTier, estimate: AttemptTokenEstimate = DEFAULT_ATTEMPT_TOKEN_ESTIMATE): number {
  const rates = tierRates[tier];
  return (estimate.input * rates.input + estimate.output * rates.output) / 1_000_000;
}
