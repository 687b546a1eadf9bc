// What the scripted model answers: a list of turns, each a file to write or edit (or read) with the
// CLI's own tool, a final text, or a failure. Stateless like the APIs it imitates: the turn is chosen
// from the conversation the CLI sends back (README.md here).

/** Token counts reported on an answer (the CLIs turn them into usage and cost). */
export type Usage = { input: number; output: number };

/** The provider APIs the server speaks, by the CLI that calls each. */
export type ApiName = "anthropic" | "chat" | "responses" | "gemini";

export type WriteTurn = { write: { path: string; content: string } };
/**
 * Replace `old` by `new` in `path` with the CLI's own edit tool (claude and opencode refuse an edit of a file they have
 * not read: put a `read` turn first).
 */
export type EditTurn = { edit: { path: string; old: string; new: string } };
export type ReadTurn = { read: { path: string } };
export type TextTurn = { text: string };
/** An HTTP error in the provider's own error body; the same request gets it again (no state). */
export type FailTurn = { fail: { status: 401 | 429 | 500; message?: string } };

/** How a turn is served: its own usage (else the server's), and a pause before each streamed event. */
export type TurnExtras = { usage?: Usage; delayMs?: number };

/** One answer of the model. */
export type Turn = (WriteTurn | EditTurn | ReadTurn | TextTurn | FailTurn) & TurnExtras;
/** A turn that asks the CLI to run one of its tools. */
export type ToolTurn = WriteTurn | EditTurn | ReadTurn;

/**
 * Turns for the requests it matches: `api` (which CLI) and `prompt` (a text the request's user and
 * tool text contains, or a pattern it matches). The first matching rule wins; none: the default turns.
 */
export type ScriptRule = { api?: ApiName; prompt?: string | RegExp; turns: Turn[] };

export const DEFAULT_USAGE: Usage = { input: 1200, output: 40 };

/** Answer for a request that offers no tools: a side call (a title, a summary), never a turn. */
export const SIDE_ANSWER = "Mesh proof";

/**
 * The turn for a request that has already carried `toolResults` tool results back: the first turn
 * for a fresh conversation, the next one after each tool result, the last one from then on.
 */
export function turnAfter(turns: readonly Turn[], toolResults: number): Turn {
  return turns[Math.min(toolResults, turns.length - 1)] ?? { text: SIDE_ANSWER };
}

/** The turns for one request: the first rule that matches it, else `fallback`. */
export function scriptFor(rules: readonly ScriptRule[], fallback: Turn[], api: ApiName, prompt: string): Turn[] {
  const matches = (rule: ScriptRule): boolean =>
    (rule.api === undefined || rule.api === api) &&
    (rule.prompt === undefined ||
      (typeof rule.prompt === "string" ? prompt.includes(rule.prompt) : rule.prompt.test(prompt)));
  return rules.find(matches)?.turns ?? fallback;
}

/** What the log says a turn answered: `write <path>`, `edit <path>`, `read <path>`, `text` or `fail <status>`. */
export function turnLabel(turn: Turn): string {
  if ("write" in turn) return `write ${turn.write.path}`;
  if ("edit" in turn) return `edit ${turn.edit.path}`;
  if ("read" in turn) return `read ${turn.read.path}`;
  if ("fail" in turn) return `fail ${turn.fail.status}`;
  return "text";
}

/** The usual script: write `path`, then say so. */
export function writeThenSay(path: string, content: string): Turn[] {
  return [{ write: { path, content } }, { text: `Wrote ${path}.` }];
}

/** Read `path`, replace `old` by `new` in it with the CLI's edit tool, then say so. */
export function readEditThenSay(path: string, old: string, replacement: string): Turn[] {
  return [{ read: { path } }, { edit: { path, old, new: replacement } }, { text: `Edited ${path}.` }];
}
