// The git cost of one isolated attempt with the worktree engine (issue 12: "worktree set-up + commit
// + diff overhead per attempt on a generated repository of 10,000 files"; goal: median under 300 ms).
// Per attempt: prepareWorkspace from the base, a two-file change, finishWorkspace (commit, stat, diff),
// removeWorkspace. The repository is generated once, reused by every sample, and removed after.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finishWorkspace, prepareWorkspace, removeWorkspace } from "../agents/runtime/worktree/index.ts";

const FILES = 10_000;
/** 100 folders of 100 files: a shape closer to a real project than one flat folder. */
const FOLDERS = 100;

/** A repository of `files` small files with one commit, in a temporary folder. */
function generatedRepository(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-bench-wt-repo-"));
  for (let folder = 0; folder < FOLDERS; folder++) mkdirSync(join(dir, `pkg${folder}`));
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `pkg${i % FOLDERS}`, `file${i}.ts`), `export const value${i} = ${i};\n`);
  const git = (...args: string[]): void => void execFileSync("git", ["-c", "user.email=bench@example.com", "-c", "user.name=bench", ...args], { cwd: dir, stdio: "ignore" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "generated");
  return dir;
}

/** Milliseconds per attempt (prepare + a small change + finish + remove), `samples` times on one generated repository. */
export async function measureWorktreeOverhead(samples = 20): Promise<number[]> {
  const repo = generatedRepository(FILES);
  const worktreesDir = mkdtempSync(join(tmpdir(), "mesh-bench-wt-dir-"));
  const times: number[] = [];
  try {
    for (let attempt = 1; attempt <= samples; attempt++) {
      const started = performance.now();
      const prepared = await prepareWorkspace({ taskId: "01BENCHTASK", attempt, tier: "sonnet", cwd: repo }, { worktreesDir });
      if (!prepared.ok || prepared.value.isolation !== "worktree") throw new Error(`no worktree: ${JSON.stringify(prepared)}`);
      const workspace = prepared.value;
      writeFileSync(join(workspace.worktree, "pkg0", "file0.ts"), `export const value0 = ${attempt};\n`);
      writeFileSync(join(workspace.worktree, `added-${attempt}.ts`), "export {};\n");
      const finished = await finishWorkspace(workspace, { tier: "sonnet" });
      if (!finished.ok || finished.value.diffStat.files !== 2) throw new Error(`unexpected result: ${JSON.stringify(finished)}`);
      const removed = await removeWorkspace(workspace);
      if (!removed.ok) throw new Error(removed.error);
      times.push(performance.now() - started);
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(worktreesDir, { recursive: true, force: true });
  }
  return times;
}
