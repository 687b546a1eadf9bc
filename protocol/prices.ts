import type { ExecutorTier } from "./ladder.ts";

// One price table for the whole mesh (docs/budget.md): the agent prices what a CLI reports with it,
// and the budget reserves each tier at the price of the model that tier runs by default, so the two
// never disagree. List prices per million tokens, as compiled on 2026-11-22 from the providers' pages.

/** USD per million tokens for one model. */
export type ModelPrice = {
  /** Uncached input. */
  input: number;
  /** Output, thinking and reasoning included. */
  output: number;
  /** Input read from a cache; absent: 0.1 × input. */
  cache_read?: number;
  /** Input written to a cache (Anthropic's 5-minute cache); absent: 1.25 × input. */
  cache_write?: number;
  /** Input written to Anthropic's 1-hour cache; absent: 2 × input. */
  cache_write_1h?: number;
};

/** Prices by model id; a longer id that starts with a key takes that key's price (the longest key wins). */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  "claude-sonnet-4": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75, cache_write_1h: 6 },
  "claude-opus-4": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75, cache_write_1h: 30 },
  "claude-opus-4-1": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75, cache_write_1h: 30 },
  "claude-opus-4-5": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25, cache_write_1h: 10 },
  "claude-opus-4-6": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25, cache_write_1h: 10 },
  "claude-opus-4-7": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25, cache_write_1h: 10 },
  "claude-opus-4-8": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25, cache_write_1h: 10 },
  "claude-haiku-4": { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25, cache_write_1h: 2 },
  "gpt-5-codex": { input: 1.25, output: 10, cache_read: 0.125 },
  "gpt-5.1-codex": { input: 1.25, output: 10, cache_read: 0.125 },
  "gpt-5-codex-mini": { input: 0.25, output: 2, cache_read: 0.025 },
  "gpt-5.1-codex-mini": { input: 0.25, output: 2, cache_read: 0.025 },
  "gpt-5.2-codex": { input: 1.75, output: 14, cache_read: 0.175 },
  "gpt-5.3-codex": { input: 1.75, output: 14, cache_read: 0.175 },
  "gpt-5.4": { input: 2.5, output: 15, cache_read: 0.25 },
  "gpt-5.5": { input: 5, output: 30, cache_read: 0.5 },
  // Prompts up to 200K tokens; longer ones cost more (not modelled).
  "gemini-2.5-pro": { input: 1.25, output: 10, cache_read: 0.125 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cache_read: 0.03 },
  // DeepSeek bills cache misses at the input rate and has no separate cache-write price.
  "deepseek-v4-flash": { input: 0.14, output: 0.28, cache_read: 0.0028, cache_write: 0.14 },
  "deepseek-v4-pro": { input: 0.435, output: 0.87, cache_read: 0.003625, cache_write: 0.435 },
  "deepseek-chat": { input: 0.28, output: 0.42, cache_read: 0.028, cache_write: 0.28 },
  "deepseek-reasoner": { input: 0.28, output: 0.42, cache_read: 0.028, cache_write: 0.28 },
};

/**
 * The model each tier runs in the shipped executors files (agents/vm/executors.json and
 * agents/mac/executors.json; a test checks they agree). Claude's `--model sonnet` and `--model opus`
 * are aliases of the current Sonnet 4.x and Opus 4.5+, which share these prices.
 */
export const TIER_DEFAULT_MODELS: Readonly<Record<ExecutorTier, string>> = {
  deepseek: "deepseek-v4-flash",
  "gemini-flash": "gemini-2.5-flash",
  "gemini-pro": "gemini-2.5-pro",
  codex: "gpt-5.5",
  sonnet: "claude-sonnet-4-5",
  opus: "claude-opus-4-5",
};

/** A model id as a CLI or a command names it: lower case, without a provider prefix (`deepseek/…`). */
export function modelKey(model: string): string {
  return model.toLowerCase().replace(/^[^/]*\//, "");
}

/** The key of `table` that is the longest prefix of `model`, if any. */
export function longestPrefixOf<T>(table: Readonly<Record<string, T>>, model: string): T | undefined {
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (model.startsWith(key.toLowerCase()) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

/** The listed price of a model (a provider prefix is ignored), or undefined for a model not listed. */
export function modelPrice(model: string): ModelPrice | undefined {
  return longestPrefixOf(MODEL_PRICES, modelKey(model));
}
