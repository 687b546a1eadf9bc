/**
 * The model an executor's command asks for (`-m x`, `--model x`, `--model=x`). Codex and opencode
 * never name their model in their output (docs/cli-formats.md), so this is what the attempt records.
 */
export function modelFromCommand(command: readonly string[]): string | undefined {
  for (let i = 1; i < command.length; i++) {
    const arg = command[i] ?? "";
    if (arg === "--") return undefined;
    if (arg.startsWith("--model=")) return nonEmpty(arg.slice("--model=".length));
    if (arg === "-m" || arg === "--model") return nonEmpty(command[i + 1]);
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" || value.includes("{prompt}") ? undefined : value;
}
