// What a run cost, for CLIs that do not say (codex, gemini) or when a CLI's own figure is missing.
// Built-in prices are the mesh's one table, protocol/prices.ts (list prices per million tokens,
// 2026-11), which the budget's reservations use too; a model not listed falls back to its CLI's
// rate (docs/cli-formats.md: Claude $3/$15, Codex $2.5/$10, Gemini $1.25/$5; opencode: DeepSeek
// V4 Flash). `--rates <file.json>` overrides or extends both tables (agents/README.md).
import { z } from "zod";
import { type ExecutorFormat, MODEL_PRICES, type Result } from "../../protocol/index.ts";
import type { TokenUsage } from "./formats/run-report.ts";
import { type FileFault, readJsonFile } from "./json-file.ts";

/** USD per million tokens. */
export const Rate = z
  .object({
    /** Uncached input. */
    input: z.number().nonnegative(),
    /** Output, thinking and reasoning included. */
    output: z.number().nonnegative(),
    /** Input read from a cache; default 0.1 × input. */
    cache_read: z.number().nonnegative().optional(),
    /** Input written to a cache (Anthropic's 5-minute cache); default 1.25 × input. */
    cache_write: z.number().nonnegative().optional(),
    /** Input written to Anthropic's 1-hour cache; default 2 × input. */
    cache_write_1h: z.number().nonnegative().optional(),
  })
  .strict();
export type Rate = z.infer<typeof Rate>;

/** The CLIs whose formats the agent reads; each has a fallback rate. */
export const CliFamily = z.enum(["claude", "codex", "gemini", "opencode"]);
export type CliFamily = z.infer<typeof CliFamily>;

/** A `--rates` file: rates by model id (a prefix matches; the longest wins) and per-CLI fallbacks. */
export const RatesFile = z
  .object({
    models: z.record(z.string().min(1), Rate).optional(),
    defaults: z.partialRecord(CliFamily, Rate).optional(),
  })
  .strict();
export type RatesFile = z.infer<typeof RatesFile>;

/** The mesh's one price table (protocol/prices.ts): the budget reserves each tier from it too. */
const BUILT_IN_MODELS: Readonly<Record<string, Rate>> = MODEL_PRICES;

const BUILT_IN_DEFAULTS: Record<CliFamily, Rate> = {
  claude: { input: 3, output: 15 },
  codex: { input: 2.5, output: 10 },
  gemini: { input: 1.25, output: 5 },
  opencode: BUILT_IN_MODELS["deepseek-v4-flash"] ?? { input: 0.14, output: 0.28 },
};

/** Which CLI writes each format; `text` has no tokens to price. */
export const familyOfFormat: Record<ExecutorFormat, CliFamily | undefined> = {
  "claude-stream-json": "claude",
  "claude-json": "claude",
  "codex-jsonl": "codex",
  "gemini-json": "gemini",
  "gemini-stream-json": "gemini",
  "opencode-json": "opencode",
  text: undefined,
};

export class RateTable {
  constructor(private readonly overrides: RatesFile = {}) {}

  /** The rate for a model id (a provider prefix such as `deepseek/` is ignored), else its CLI's fallback. */
  rateFor(model: string | undefined, family: CliFamily): Rate {
    const id = model?.toLowerCase().replace(/^[^/]*\//, "");
    if (id !== undefined) {
      const rate = longestPrefix(this.overrides.models ?? {}, id) ?? longestPrefix(BUILT_IN_MODELS, id);
      if (rate !== undefined) return rate;
    }
    return this.overrides.defaults?.[family] ?? BUILT_IN_DEFAULTS[family];
  }

  /** The cost of a run in USD: each usage at its own model's rate (`model` when it names none). */
  costOf(usage: readonly TokenUsage[], model: string | undefined, family: CliFamily): number {
    const cost = usage.reduce((sum, entry) => sum + priced(entry, this.rateFor(entry.model ?? model, family)), 0);
    // Sums of float products: keep ten decimal places, far below a cent and free of float noise.
    return Math.round(cost * 1e10) / 1e10;
  }
}

/** `in·In + cacheRead·Cached + cacheWrite·Write5m + cacheWrite1h·Write1h + out·Out`, per million tokens. */
function priced(usage: TokenUsage, rate: Rate): number {
  const cacheRead = rate.cache_read ?? rate.input * 0.1;
  const cacheWrite = rate.cache_write ?? rate.input * 1.25;
  const cacheWrite1h = rate.cache_write_1h ?? rate.input * 2;
  return (
    (usage.input * rate.input +
      usage.cacheRead * cacheRead +
      usage.cacheWrite * cacheWrite +
      usage.cacheWrite1h * cacheWrite1h +
      usage.output * rate.output) /
    1e6
  );
}

function longestPrefix(table: Readonly<Record<string, Rate>>, id: string): Rate | undefined {
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (id.startsWith(key.toLowerCase()) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

/** The rates table, or what is wrong with the file (a message that names the bad field). */
export type RatesFileResult = Result<RateTable, FileFault>;

/** Reads a `--rates` file; a bad one is refused with the file and the bad field named. */
export function readRatesFile(path: string): RatesFileResult {
  const read = readJsonFile(path, RatesFile);
  if (!read.ok)
    return { ok: false, error: { code: read.error.code, message: `rates file ${path}: ${read.error.message}` } };
  return { ok: true, value: new RateTable(read.value) };
}
