// Whether the agent can make worktrees in its --worktrees directory now (docs/faults.md). A
// directory that is read-only, full or not a directory fails every attempt that needs a worktree the
// same way, so the agent says so once (the attempt's error names the path, the errno and what to do)
// and stops taking such tasks until a probe finds the directory usable again. The probe is a folder
// made, a small file written and both removed: a full tmpfs or ext4 (as root, inside its reserve)
// still makes folders, only the write tells.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Bytes the probe writes: one page, which a full file system refuses. */
const PROBE_BYTES = 4096;

/** Why worktrees cannot be made, as the attempt's error and the agent's `degraded` reason say it. */
export type DirFault = { code: string; message: string };

const NOT_WRITABLE = new Set(["EACCES", "EPERM", "EROFS"]);
const FULL = new Set(["ENOSPC", "EDQUOT"]);
const NOT_A_DIRECTORY = new Set(["ENOTDIR", "EEXIST"]);

/**
 * The fault an errno error in the worktrees directory `dir` stands for; undefined for an error without an errno code.
 */
export function dirFaultOf(dir: string, error: unknown): DirFault | undefined {
  const code = errnoCode(error);
  if (code === undefined) return undefined;
  const detail = error instanceof Error ? error.message : code;
  if (FULL.has(code))
    return {
      code,
      message: `the worktrees directory ${dir} is full (${detail}); free space in ${dir}, or give the agent --worktrees a directory with room`,
    };
  if (NOT_WRITABLE.has(code))
    return {
      code,
      message: `the worktrees directory ${dir} is not writable (${detail}); make it writable for the agent's user, or give the agent --worktrees a writable directory`,
    };
  if (NOT_A_DIRECTORY.has(code))
    return {
      code,
      message: `the worktrees directory ${dir} is not a directory (${detail}); remove what is in its place, or give the agent --worktrees another directory`,
    };
  return {
    code,
    message: `the worktrees directory ${dir} cannot be used (${detail}); check its disk, or give the agent --worktrees another directory`,
  };
}

/** Why `dir` cannot take a worktree now, or undefined when it can. */
export async function probeWorktreesDir(dir: string): Promise<DirFault | undefined> {
  let probe: string | undefined;
  try {
    await mkdir(dir, { recursive: true });
    probe = await mkdtemp(join(dir, ".probe-"));
    await writeFile(join(probe, "probe"), Buffer.alloc(PROBE_BYTES));
    return undefined;
  } catch (error) {
    return (
      dirFaultOf(dir, error) ?? {
        code: "unknown",
        message: `the worktrees directory ${dir} cannot be used (${String(error)}); give the agent --worktrees another directory`,
      }
    );
  } finally {
    if (probe !== undefined) await rm(probe, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The same probe, blocking: once at the agent's start, before its first hello says whether it is degraded. */
export function probeWorktreesDirNow(dir: string): DirFault | undefined {
  let probe: string | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    probe = mkdtempSync(join(dir, ".probe-"));
    writeFileSync(join(probe, "probe"), Buffer.alloc(PROBE_BYTES));
    return undefined;
  } catch (error) {
    return (
      dirFaultOf(dir, error) ?? {
        code: "unknown",
        message: `the worktrees directory ${dir} cannot be used (${String(error)}); give the agent --worktrees another directory`,
      }
    );
  } finally {
    if (probe !== undefined) {
      try {
        rmSync(probe, { recursive: true, force: true });
      } catch {
        // A probe folder left in a directory that went read-only meanwhile: the next sweep's problem.
      }
    }
  }
}

/**
 * git's own words for a full or read-only disk (it prints strerror, no code): where git failed for
 * lack of room in a place the probe does not reach (the checkout outgrew what was free).
 */
const GIT_DISK_WORDS: ReadonlyArray<[RegExp, string]> = [
  [/No space left on device/i, "ENOSPC"],
  [/Disk quota exceeded/i, "EDQUOT"],
  [/Read-only file system/i, "EROFS"],
];

/** The errno a failed git's stderr names for a disk fault, with the line that says it. */
export function diskFaultInGitOutput(stderr: string): { code: string; line: string } | undefined {
  for (const [pattern, code] of GIT_DISK_WORDS) {
    const line = stderr.split("\n").find((text) => pattern.test(text));
    if (line !== undefined) return { code, line: line.trim().slice(0, 300) };
  }
  return undefined;
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : undefined;
}
