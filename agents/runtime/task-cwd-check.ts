import { statSync } from "node:fs";
import type { Result } from "../../protocol/index.ts";

/** The task's cwd must be a directory on this agent: `not_a_directory` or `absent` otherwise. */
export function checkDirectory(cwd: string): Result<void, { code: "not_a_directory" | "absent"; message: string }> {
  try {
    return statSync(cwd).isDirectory()
      ? { ok: true, value: undefined }
      : {
          ok: false,
          error: { code: "not_a_directory", message: `the task's cwd '${cwd}' is not a directory on this agent` },
        };
  } catch {
    return {
      ok: false,
      error: {
        code: "absent",
        message: `the task's cwd '${cwd}' does not exist on this agent; give a directory that exists on the agent's machine`,
      },
    };
  }
}
