// The git cost of one isolated attempt (issue 12): make its worktree from the base, commit a small
// change, read its diff, remove the worktree; on a generated repository of 10,000 files.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishWorkspace, prepareWorkspace, removeWorkspace } from "../agents/runtime/attempt-worktree.ts";

const FILES = 10_000;

/** A repository of `files` small files in 100 folders, one commit. */
function generatedRepo(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-bench-repo-"));
  for (let i = 0; i < files; i++) {
    const folder = join(dir, `pkg${String(i % 100).padStart(2, "0")}`);
    if (i < 100) mkdirSync(folder);
    writeFileSync(join(folder, `file${i}.ts`), `export const value${i} = ${i};\n`);
  }
  const git = (...args: string[]): void => void execFileSync("git", ["-c", "user.email=b@example.com", "-c", "user.name=b", ...args], { cwd: dir, stdio: "ignore" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "generated");
  return dir;
}

/** Milliseconds per attempt (prepare + a two-file change + commit and diff + remove), `samples` times. */
export async function measureWorktreeOverhead(samples: number): Promise<number[]> {
  const repo = generatedRepo(FILES);
  const worktreesDir = mkdtempSync(join(tmpdir(), "mesh-bench-worktrees-"));
  const times: number[] = [];
  try {
    for (let n = 1; n <= samples; n++) {
      const started = performance.now();
      const prepared = await prepareWorkspace({ taskId: "BENCH", attempt: n, tier: "sonnet", cwd: repo }, { worktreesDir });
      if (!prepared.ok || prepared.value.isolation !== "worktree") throw new Error(`no worktree: ${prepared.ok ? prepared.value.isolation : prepared.error}`);
      const ws = prepared.value;
      writeFileSync(join(ws.worktree, "pkg00/file0.ts"), `export const value0 = ${n};\n`);
      writeFileSync(join(ws.worktree, `added-${n}.ts`), "export {};\n");
      const finished = await finishWorkspace(ws, { tier: "sonnet" });
      if (!finished.ok || finished.value.diffStat.files !== 2) throw new Error(`unexpected result: ${JSON.stringify(finished)}`);
      await removeWorkspace(ws);
      times.push(performance.now() - started);
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreesDir, { recursive: true, force: true });
  }
  return times;
}
