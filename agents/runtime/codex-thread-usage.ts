// codex's `turn.completed` states the whole thread's usage, earlier runs included: a resumed session's
// first turn repeats every token its earlier attempts already paid for. The thread's total before
// the run is the last `token_count` in its rollout file; a resumed run's usage is what it added past
// that (docs/costs.md, docs/sessions.md).
import { readFile } from "node:fs/promises";
import { codexUsage } from "./formats/codex-jsonl.ts";
import type { OutputParser, TokenUsage } from "./formats/index.ts";
import { num, obj, parseJsonObject } from "./formats/json-reader.ts";
import { findRollout, sessionFolderOf } from "./session-files.ts";

/** The thread's usage so far, from the last `token_count` event of its rollout file; undefined when none is found. */
export async function codexThreadTotal(env: NodeJS.ProcessEnv, sessionId: string): Promise<TokenUsage | undefined> {
  const folder = sessionFolderOf("codex", env);
  const file = folder === undefined ? undefined : await findRollout(folder, sessionId, 0);
  if (file === undefined) return undefined;
  const text = await readFile(file, "utf8").catch(() => "");
  return lastThreadTotal(text);
}

/** The `payload.info.total_token_usage` of the last `token_count` event in a rollout's lines. */
export function lastThreadTotal(rollout: string): TokenUsage | undefined {
  const lines = rollout.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (!line.includes('"token_count"')) continue;
    const total = totalOf(line);
    if (total !== undefined) return total;
  }
  return undefined;
}

function totalOf(line: string): TokenUsage | undefined {
  const total = obj(obj(obj(parseJsonObject(line), "payload"), "info"), "total_token_usage");
  return num(total, "input_tokens") === undefined ? undefined : codexUsage(total);
}

/** The parser, with `before` taken off each usage it reports (never below 0). */
export function pastThreadTotal(parser: OutputParser, before: TokenUsage): OutputParser {
  const less = (usage: TokenUsage[]): TokenUsage[] =>
    usage.map((u) => ({
      ...u,
      input: Math.max(0, u.input - before.input),
      cacheRead: Math.max(0, u.cacheRead - before.cacheRead),
      output: Math.max(0, u.output - before.output),
    }));
  const spent = parser.spent?.bind(parser);
  return {
    ...parser,
    ...(spent === undefined
      ? {}
      : {
          spent: () => {
            const so = spent();
            return { ...so, usage: less(so.usage) };
          },
        }),
    end: () => {
      const end = parser.end();
      return { ...end, report: { ...end.report, usage: less(end.report.usage) } };
    },
  };
}
