// opencode keeps its sessions in one SQLite database with every other session (measured with 1.18.33:
// `$HOME/.local/share/opencode/opencode.db`), so its session is carried through its own commands:
// `opencode export <id>` prints the session as JSON, `opencode import <file>` takes it in on another
// machine, and `opencode run --session <id>` continues it there (docs/sessions.md).
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Result } from "../../protocol/index.ts";

/** An export or import of one session takes a second or two; a CLI that hangs is stopped. */
const COMMAND_TIMEOUT_MS = 60_000;
/** Far above the 1 MiB cap of the compressed archive: a larger export is refused there, with its size. */
const MAX_EXPORT_BYTES = 64 * 1024 * 1024;

function run(program: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Result<string, string>> {
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      { cwd, env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_EXPORT_BYTES, encoding: "utf8" },
      (error, stdout, stderr) =>
        resolve(
          error === null
            ? { ok: true, value: stdout }
            : {
                ok: false,
                error: `${program} ${args[0] ?? ""} failed: ${(stderr || error.message).trim().slice(0, 300)}`,
              },
        ),
    );
  });
}

/** The session as `opencode export` prints it (JSON, the cwd in `info.directory`). */
export async function exportOpencodeSession(
  program: string,
  sessionId: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Result<string, string>> {
  const exported = await run(program, ["export", sessionId], cwd, env);
  if (!exported.ok) return exported;
  // Anything before the JSON (a notice) is not part of the session.
  const start = exported.value.indexOf("{");
  return start < 0
    ? { ok: false, error: `opencode export ${sessionId} printed no session` }
    : { ok: true, value: exported.value.slice(start) };
}

/** Takes an exported session into this machine's opencode, run from `cwd` (where it will continue). */
export async function importOpencodeSession(
  program: string,
  text: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Result<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "mesh-opencode-session-"));
  try {
    const file = join(dir, "session.json");
    await writeFile(file, text, { mode: 0o600 });
    const imported = await run(program, ["import", file], cwd, env);
    return imported.ok ? { ok: true, value: "imported into opencode's database" } : imported;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
