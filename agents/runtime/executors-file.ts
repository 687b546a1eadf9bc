import { readFileSync } from "node:fs";
import { ExecutorsFile, ExecutorTier, describeIssues, type Result } from "../../protocol/index.ts";

/** The executors file, or what is wrong with it (a message that names the bad field). */
export type ExecutorsFileResult = Result<ExecutorsFile, string>;

/** Reads and validates an executors file; a bad one is refused with the file and the bad field named. */
export function readExecutorsFile(path: string): ExecutorsFileResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "unknown error";
    const hint = code === "ENOENT" ? "no such file; pass --executors with the path of your executors JSON file" : `cannot read it (${code})`;
    return { ok: false, error: `executors file ${path}: ${hint}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `executors file ${path}: not valid JSON (${detail})` };
  }
  const parsed = ExecutorsFile.safeParse(data);
  if (!parsed.success) {
    const unknownTier = parsed.error.issues.some((issue) => issue.code === "unrecognized_keys" && issue.path.join(".") === "executors");
    const hint = unknownTier ? `; tiers are ${ExecutorTier.options.join(", ")}` : "";
    return { ok: false, error: `executors file ${path}: ${describeIssues(parsed.error)}${hint}` };
  }
  return { ok: true, value: parsed.data };
}

/** The tiers a file serves, in ladder order. */
export function tiersOf(file: ExecutorsFile): ExecutorTier[] {
  return ExecutorTier.options.filter((tier) => file.executors[tier] !== undefined);
}
