/** Tokens of one model as they are billed: input split by cache state, output with reasoning. */
export interface TokenUsage {
  /** The model these tokens were spent on, when the output names it per model (gemini, claude's modelUsage). */
  model?: string;
  /** Input tokens neither read from nor written to a cache. */
  input: number;
  /** Input tokens read from the cache (billed at the cached rate). */
  cacheRead: number;
  /** Input tokens written to the cache (Anthropic: the 5-minute cache; opencode: cache.write). */
  cacheWrite: number;
  /** Input tokens written to Anthropic's 1-hour cache. */
  cacheWrite1h: number;
  /** Output tokens, thinking and reasoning included. */
  output: number;
}

/** What a CLI's output said about its run, as a format parser reads it. */
export interface RunReport {
  /** The format's final event was seen (a result line, turn.completed, …); without it the run was cut short. */
  finished: boolean;
  /** The CLI itself reported success (its exit code is judged separately). */
  success: boolean;
  /** The final answer. */
  result?: string;
  /** The CLI's own failure message. */
  error?: string;
  sessionId?: string;
  /** The main model, when the output names it. */
  model?: string;
  /** Tokens spent, one entry per model where the output splits them; empty when it reports none. */
  usage: TokenUsage[];
  /** Cost the CLI reported itself (claude, opencode), in US dollars. */
  costUsd?: number;
  /** HTTP status of a failed API call, where the CLI reports one (claude `api_error_status`, opencode `statusCode`). */
  errorStatus?: number;
  /** The error code of the CLI's error JSON (gemini: 41 is FatalAuthenticationError). */
  errorCode?: number;
  /** The kind of a failed run where the CLI names one (claude's result `subtype`, e.g. `error_max_budget_usd`). */
  errorKind?: string;
}

/**
 * What a run has spent so far, as its output told it while it ran. A closing report's totals (claude's
 * and gemini's `result`) are not in it: a cost known only at the end cannot stop a run (docs/costs.md).
 */
export interface SpendSoFar {
  usage: TokenUsage[];
  /** Cost the CLI reported itself, when it did. */
  costUsd?: number;
  /**
   * The latest figure came with an event that may be the run's last (codex's `turn.completed`, opencode's
   * last step): past the cap, it is the run's end cost unless the CLI goes on to another turn or step.
   */
  mayBeLast?: boolean;
}

/** The lines a parser adds when the output ends, and the report. */
export interface ParsedEnd {
  lines: string[];
  report: RunReport;
}

/**
 * Reads one executor's output as it arrives: each stdout line becomes the readable lines to show for
 * it (none for bookkeeping events, never raw JSON); at the end it tells what the run reported.
 * Unknown fields and lines that do not parse are tolerated: a parser never throws.
 */
export interface OutputParser {
  stdout(line: string): string[];
  /** Stderr lines are shown as they are by the runner; some CLIs put their error JSON there (gemini). */
  stderr(line: string): void;
  end(): ParsedEnd;
  /**
   * What the run spent so far, for the attempt's cost cap; formats that report usage only at the end have none
   * (docs/costs.md).
   */
  spent?(): SpendSoFar;
  /**
   * The CLI's session id once its output named it (streaming formats), so the mesh learns it before the end
   * (docs/sessions.md).
   */
  session?(): string | undefined;
}

export function emptyUsage(model?: string): TokenUsage {
  return {
    ...(model === undefined ? {} : { model }),
    input: 0,
    cacheRead: 0,
    cacheWrite: 0,
    cacheWrite1h: 0,
    output: 0,
  };
}

/** All input tokens of a usage, cached ones included (the wire's `tokens.input`). */
export function totalInput(usage: TokenUsage): number {
  return usage.input + usage.cacheRead + usage.cacheWrite + usage.cacheWrite1h;
}
