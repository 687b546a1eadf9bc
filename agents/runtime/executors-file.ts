import { z } from "zod";
import { describeIssues, ExecutorsFile, ExecutorTier, type Result } from "../../protocol/index.ts";
import { type FileFault, readJsonFile } from "./json-file.ts";

/** The executors file, or what is wrong with it (a typed code; the message names the file and the bad field). */
export type ExecutorsFileResult = Result<ExecutorsFile, FileFault>;

/** Reads and validates an executors file; a bad one is refused with the file and the bad field named. */
export function readExecutorsFile(path: string): ExecutorsFileResult {
  const read = readJsonFile(path, z.unknown());
  if (!read.ok) {
    const hint = read.error.code === "absent" ? "; pass --executors with the path of your executors JSON file" : "";
    return {
      ok: false,
      error: { code: read.error.code, message: `executors file ${path}: ${read.error.message}${hint}` },
    };
  }
  const parsed = ExecutorsFile.safeParse(read.value);
  if (!parsed.success) {
    const unknownTier = parsed.error.issues.some(
      (issue) => issue.code === "unrecognized_keys" && issue.path.join(".") === "executors",
    );
    const hint = unknownTier ? `; tiers are ${ExecutorTier.options.join(", ")}` : "";
    return {
      ok: false,
      error: { code: "invalid", message: `executors file ${path}: ${describeIssues(parsed.error)}${hint}` },
    };
  }
  return { ok: true, value: parsed.data };
}

/** The tiers a file serves, in ladder order. */
export function tiersOf(file: ExecutorsFile): ExecutorTier[] {
  return ExecutorTier.options.filter((tier) => file.executors[tier] !== undefined);
}
