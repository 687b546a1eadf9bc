// The worktrees directory on disk as the keeper's sweep walks it (docs/work-isolation.md):
// <dir>/<repo key>/<task id>/<n>-<tier>, each finished attempt's folder with a marker beside it
// ("<finished at>\n<attempt>"), and the pool's folder of spares, which is none of the keeper's.
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { WorktreeWorkspace } from "./attempt-worktree.ts";
import { WARM_FOLDER } from "./warm-worktree-pool.ts";

/** The marker beside a finished attempt's worktree. */
export function markerOf(workspace: Pick<WorktreeWorkspace, "worktree">): string {
  return `${workspace.worktree}.done`;
}

/** Worktree folders: two levels below the repo keys (the pool's folder is not one: docs/repositories.md). */
export async function worktreesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const repoKey of await readdir(dir).catch(() => [])) {
    if (repoKey === WARM_FOLDER) continue;
    for (const task of await readdir(join(dir, repoKey)).catch(() => [])) {
      for (const attempt of await readdir(join(dir, repoKey, task)).catch(() => [])) {
        const path = join(dir, repoKey, task, attempt);
        if (!attempt.endsWith(".done") && (await stat(path).catch(() => undefined))?.isDirectory()) found.push(path);
      }
    }
  }
  return found;
}

/** Removes the task and repository folders the sweep emptied. */
export async function removeEmptyFolders(dir: string): Promise<void> {
  for (const repoKey of await readdir(dir).catch(() => [])) {
    if (repoKey === WARM_FOLDER) continue;
    for (const task of await readdir(join(dir, repoKey)).catch(() => [])) {
      if ((await readdir(join(dir, repoKey, task)).catch(() => ["x"])).length === 0)
        await rm(join(dir, repoKey, task), { recursive: true, force: true });
    }
    if ((await readdir(join(dir, repoKey)).catch(() => ["x"])).length === 0)
      await rm(join(dir, repoKey), { recursive: true, force: true });
  }
}
