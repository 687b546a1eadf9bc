// The git cost of one isolated attempt (bench/README.md): make its worktree from the base, commit a small
// change, read its diff, remove the worktree; on a generated repository of 10,000 files. Cold: a new
// worktree each time. Warm: a pool of spares (docs/repositories.md "Warm worktrees"), timed on hits.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishWorkspace } from "../agents/runtime/attempt-commit.ts";
import { prepareWorkspace, removeWorkspace, type WorktreeWorkspace } from "../agents/runtime/attempt-worktree.ts";
import { WarmWorktreePool } from "../agents/runtime/warm-worktree-pool.ts";

export const WORKTREE_BENCH_FILES = 10_000;

/** A repository of `files` small files in 100 folders and a .gitignore (build/), one commit. */
function generatedRepo(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-bench-repo-"));
  for (let i = 0; i < files; i++) {
    const folder = join(dir, `pkg${String(i % 100).padStart(2, "0")}`);
    if (i < 100) mkdirSync(folder);
    writeFileSync(join(folder, `file${i}.ts`), `export const value${i} = ${i};\n`);
  }
  writeFileSync(join(dir, ".gitignore"), "build/\n");
  const git = (...args: string[]): void =>
    void execFileSync("git", ["-c", "user.email=b@example.com", "-c", "user.name=b", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "generated");
  return dir;
}

export type WorktreeMode = "cold" | "warm" | "warm-lazy";
export type WorktreeSamples = { mode: WorktreeMode; files: number; times: number[] };

/**
 * Milliseconds per attempt (prepare + a two-file change, an ignored build folder + commit and diff +
 * removal or return to the pool), `samples` times. Warm modes first fill the pool (untimed misses).
 */
export async function measureWorktreeOverhead(
  samples: number,
  mode: WorktreeMode = "cold",
  files: number = WORKTREE_BENCH_FILES,
): Promise<WorktreeSamples> {
  const repo = generatedRepo(files);
  const worktreesDir = mkdtempSync(join(tmpdir(), "mesh-bench-worktrees-"));
  const pool =
    mode === "cold" ? undefined : new WarmWorktreePool({ worktreesDir, size: 2, eagerReset: mode === "warm" });
  const release = (ws: WorktreeWorkspace): Promise<void> =>
    pool === undefined ? removeWorkspace(ws) : pool.give(ws.repo, ws.worktree);
  const attempt = async (n: number): Promise<void> => {
    const prepared = await prepareWorkspace(
      { taskId: "BENCH", attempt: n, tier: "sonnet", cwd: repo },
      { worktreesDir, ...(pool === undefined ? {} : { spares: pool }) },
    );
    if (!prepared.ok || prepared.value.isolation !== "worktree")
      throw new Error(`no worktree: ${prepared.ok ? prepared.value.isolation : prepared.error.message}`);
    const ws = prepared.value;
    writeFileSync(join(ws.worktree, "pkg00/file0.ts"), `export const value0 = ${n};\n`);
    writeFileSync(join(ws.worktree, `added-${n}.ts`), "export {};\n");
    mkdirSync(join(ws.worktree, "build"), { recursive: true });
    writeFileSync(join(ws.worktree, "build", `out-${n}.js`), "ignored\n");
    const finished = await finishWorkspace(ws, { tier: "sonnet" });
    if (!finished.ok || finished.value.diffStat.files !== 2)
      throw new Error(`unexpected result: ${JSON.stringify(finished)}`);
    await release(ws);
  };
  const times: number[] = [];
  try {
    const warmUp = pool === undefined ? 0 : 2;
    for (let n = 1; n <= warmUp; n++) await attempt(samples + n);
    for (let n = 1; n <= samples; n++) {
      // A spare's eager reset runs while the next attempt's CLI would work, not timed (bench/README.md).
      await pool?.idle();
      const started = performance.now();
      await attempt(n);
      times.push(performance.now() - started);
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreesDir, { recursive: true, force: true });
  }
  return { mode, files, times };
}
