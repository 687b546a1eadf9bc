// One reader for the JSON files the agent reads (the executors file, a rates file, its credential): a typed fault,
// never a thrown error or a bare string (docs/local-errors.md). Each caller names the file and adds its own hint.
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { describeIssues, type Result } from "../../protocol/index.ts";

/**
 * Why a JSON file cannot be used: `absent` (no such file), `unreadable` (another errno), `not_json`,
 * `invalid` (JSON, but not the shape its schema takes). The message is the detail, without the file's name.
 */
export type FileFault = { code: "absent" | "unreadable" | "not_json" | "invalid"; message: string };

/** `path` read and parsed with `schema`. */
export function readJsonFile<T>(path: string, schema: z.ZodType<T>): Result<T, FileFault> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code;
    return errno === "ENOENT"
      ? { ok: false, error: { code: "absent", message: "no such file" } }
      : { ok: false, error: { code: "unreadable", message: `cannot read it (${errno ?? String(cause)})` } };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    return {
      ok: false,
      error: {
        code: "not_json",
        message: `not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`,
      },
    };
  }
  const parsed = schema.safeParse(data);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, error: { code: "invalid", message: describeIssues(parsed.error) } };
}
