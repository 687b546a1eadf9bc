// An attempt's diff and its stat (issue 12, point 2; INTERFACES.md "Work isolation and results"):
// base → commit, binary files included, applicable with `git apply` at base; past the cap it is cut
// at a file boundary and flagged, and the branch still holds everything.
import { spawn } from "node:child_process";
import type { DiffStat, Result } from "../../../protocol/index.ts";
import { MAX_DIFF_BYTES } from "../../../protocol/index.ts";
import { GIT_TIMEOUT_MS, gitArguments, gitComplaint, gitEnvironment, runGit } from "./git-command.ts";

export type CappedDiff = { diff: string; diffTruncated: boolean };

/**
 * Plumbing, not `git diff`: diff-tree ignores the user's diff settings (noprefix, mnemonic
 * prefixes, textconv, external diff, colour), any of which would make a patch `git apply` rejects.
 * -M keeps a renamed file one entry, in the patch and in the stat alike.
 */
const DIFF_TREE = ["diff-tree", "-r", "-M", "--no-color", "--no-ext-diff", "--no-textconv"];

/** Where a file's section starts in a diff. A content line always starts with ` `, `+`, `-` or `\`, so this is never one. */
const FILE_HEADER = Buffer.from("\ndiff --git ");

/**
 * The diff from base to commit, at most `maxBytes` bytes (default 4 MiB) and cut at a file
 * boundary past that. Streamed: git is stopped once the cap is passed, so a huge diff costs no
 * more memory than the cap.
 */
export function diffOf(repo: string, base: string, commit: string, maxBytes: number = MAX_DIFF_BYTES): Promise<Result<CappedDiff, string>> {
  return new Promise((resolve) => {
    const pieces: Buffer[] = [];
    let size = 0;
    let passedCap = false;
    let stderr = "";
    const child = spawn("git", gitArguments([...DIFF_TREE, "-p", "--binary", base, commit]), {
      cwd: repo,
      env: gitEnvironment({ readOnly: true }),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: GIT_TIMEOUT_MS,
    });
    child.stdout.on("data", (chunk: Buffer) => {
      if (passedCap) return;
      pieces.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        passedCap = true;
        child.kill();
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString("utf8");
    });
    child.on("error", (error) => resolve({ ok: false, error: `git could not be run for the diff in ${repo}: ${error.message}` }));
    child.on("close", (code) => {
      const whole = Buffer.concat(pieces, size);
      if (passedCap) return resolve({ ok: true, value: { diff: cutAtFileBoundary(whole, maxBytes).toString("utf8"), diffTruncated: true } });
      if (code !== 0) return resolve({ ok: false, error: `git could not diff ${base}..${commit} in ${repo}: ${gitComplaint({ code: code ?? -1, stdout: "", stderr })}` });
      resolve({ ok: true, value: { diff: whole.toString("utf8"), diffTruncated: false } });
    });
  });
}

/**
 * The longest prefix of `diff` of at most `maxBytes` bytes that ends where a file's section starts,
 * so what is kept still applies (empty when the first file alone is larger than the cap).
 */
export function cutAtFileBoundary(diff: Buffer, maxBytes: number): Buffer {
  if (diff.length <= maxBytes) return diff;
  // The header's leading newline ends the kept part: it may start at most at maxBytes - 1.
  const at = maxBytes < 1 ? -1 : diff.lastIndexOf(FILE_HEADER, maxBytes - 1);
  return at < 0 ? Buffer.alloc(0) : diff.subarray(0, at + 1);
}

export type ChangeSummary = { diffStat: DiffStat; paths: string[] };

/** Files, insertions and deletions from base to commit, and every path involved (a rename's both sides). */
export async function changeSummary(repo: string, base: string, commit: string): Promise<Result<ChangeSummary, string>> {
  const numstat = await runGit(repo, [...DIFF_TREE, "--numstat", "-z", base, commit], { readOnly: true });
  if (numstat.code !== 0) return { ok: false, error: `git could not count the changes ${base}..${commit} in ${repo}: ${gitComplaint(numstat)}` };
  return { ok: true, value: parseNumstat(numstat.stdout) };
}

/**
 * `--numstat -z` rows: `<added>\t<deleted>\t<path>\0`, or for a rename `<added>\t<deleted>\t\0<from>\0<to>\0`.
 * A binary file counts `-` lines: it is a changed file with no lines.
 */
export function parseNumstat(text: string): ChangeSummary {
  const fields = text.split("\0");
  const diffStat: DiffStat = { files: 0, insertions: 0, deletions: 0 };
  const paths: string[] = [];
  const lines = (count: string | undefined): number => (count === undefined || count === "-" ? 0 : Number.parseInt(count, 10) || 0);
  for (let i = 0; i < fields.length; i++) {
    const row = fields[i] ?? "";
    if (row === "") continue;
    // With -z paths are not quoted and may hold tabs: only the first two tabs separate fields.
    const [added, deleted, ...rest] = row.split("\t");
    const path = rest.join("\t");
    diffStat.files += 1;
    diffStat.insertions += lines(added);
    diffStat.deletions += lines(deleted);
    if (path !== "") {
      paths.push(path);
      continue;
    }
    const from = fields[++i];
    const to = fields[++i];
    if (from !== undefined && from !== "") paths.push(from);
    if (to !== undefined && to !== "") paths.push(to);
  }
  return { diffStat, paths };
}
