// The command line an attempt runs: the executor's command with the prompt, a resumed session's
// pieces, and claude's own budget flag (docs/executors-file.md, docs/resume.md).
import { basename } from "node:path";
import type { ExecutorSpec } from "../../protocol/index.ts";

/**
 * The executor's command with every `{prompt}` replaced by the prompt, each element staying one
 * argument; to continue a session, the executor's `resume` pieces with `{session_id}` filled in go
 * just before the element holding `{prompt}` (at the end when none does), as ExecutorSpec says.
 */
export function commandFor(
  executor: ExecutorSpec,
  prompt: string,
  costCapUsd?: number,
  resumeSession?: string,
): string[] {
  const command = executor.command.map((part) => part.split("{prompt}").join(prompt));
  if (resumeSession !== undefined && executor.resume !== undefined) {
    const at = executor.command.findIndex((part) => part.includes("{prompt}"));
    command.splice(
      at < 0 ? command.length : at,
      0,
      ...executor.resume.map((piece) => piece.split("{session_id}").join(resumeSession)),
    );
  }
  // Claude Code stops itself at a budget (`--max-budget-usd`, result subtype error_max_budget_usd), given
  // to four decimals: a cap of $0.0168 rounded to cents would let it spend $0.02.
  const claude =
    basename(command[0] ?? "") === "claude" &&
    (executor.format === "claude-stream-json" || executor.format === "claude-json");
  if (costCapUsd === undefined || costCapUsd <= 0 || !claude || command.includes("--max-budget-usd")) return command;
  return [...command, "--max-budget-usd", costCapUsd.toFixed(4)];
}
