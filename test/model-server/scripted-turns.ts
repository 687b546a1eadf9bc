// What the scripted model answers: a list of turns, each a file to write with the CLI's own tool or a
// final text. Stateless like the APIs it imitates: the turn is chosen from the conversation the CLI
// sends back (README.md here).

/** One answer of the model: write a file with the CLI's own write tool, or end with a text. */
export type Turn = { write: { path: string; content: string } } | { text: string };

/** Token counts reported on every answer (the CLIs turn them into usage and cost). */
export type Usage = { input: number; output: number };

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

/** The usual script: write `path`, then say so. */
export function writeThenSay(path: string, content: string): Turn[] {
  return [{ write: { path, content } }, { text: `Wrote ${path}.` }];
}
