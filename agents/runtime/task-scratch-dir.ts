// Where a task that names neither a `cwd` nor a `repo` runs (docs/repositories.md "No cwd, no repo"):
// a new empty directory of its own under the agent's state directory, shared by the task's attempts
// on this agent and removed when the task ends. Never the agent's own working directory: with
// `npm start` that is the mesh's checkout, which a real CLI would edit.
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

export class TaskScratchDirs {
  /** Directories this run made: never swept as leftovers. */
  private readonly made = new Set<string>();

  constructor(private readonly dir: string) {}

  /** The task's directory, made when first asked for. */
  async forTask(taskId: string): Promise<string> {
    const path = this.pathOf(taskId);
    this.made.add(path);
    await mkdir(path, { recursive: true });
    return path;
  }

  pathOf(taskId: string): string {
    // Task ids are ULIDs; anything else is reduced to safe characters so it stays one folder below.
    return join(this.dir, taskId.replace(/[^A-Za-z0-9_-]/g, "_"));
  }

  /** The task ended: its directory goes, with whatever its attempts left there. */
  async release(taskId: string): Promise<void> {
    this.made.delete(this.pathOf(taskId));
    await rm(this.pathOf(taskId), { recursive: true, force: true });
  }

  /** At start: directories a previous run left (it did not see their tasks end) go; this run's stay. */
  async sweep(): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [])) {
      const path = join(this.dir, name);
      if (!this.made.has(path)) await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
