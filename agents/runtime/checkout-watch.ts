// What an attempt changed in the user's checkout outside its worktree (docs/faults.md): the checkout
// is snapshot before the attempt's CLI starts and compared after it, leaving out what the agent's
// own merges (`apply`) into that checkout moved meanwhile.
import type { WorktreeWorkspace } from "./attempt-worktree.ts";
import { changedFiles, snapshotCheckout, type WorkTreeSnapshot } from "./work-tree-changes.ts";

/** Paths named in a `wrong_file` message; the rest are counted. */
const NAMED_PATHS = 20;

export class CheckoutWatch {
  /** The user's checkout before each running attempt (by worktree folder), to see what else changed. */
  private readonly checkouts = new Map<string, { snapshot: WorkTreeSnapshot; merges: number }>();
  /** Merges (`apply`) into each repository so far: HEAD moved by the agent's own merge is not the CLI's doing. */
  private readonly merges = new Map<string, number>();

  /** Remembers the user's checkout as it is before the attempt's CLI starts (one git process). */
  async watch(workspace: WorktreeWorkspace): Promise<void> {
    const snapshot = await snapshotCheckout(workspace.repo);
    if (snapshot !== undefined)
      this.checkouts.set(workspace.worktree, { snapshot, merges: this.merges.get(workspace.repo) ?? 0 });
  }

  /** The attempt's worktree is settled or gone: nothing more to compare. */
  forget(worktree: string): void {
    this.checkouts.delete(worktree);
  }

  /** The agent merges into `repo`'s checkout now (`apply`). */
  countMerge(repo: string): void {
    this.merges.set(repo, (this.merges.get(repo) ?? 0) + 1);
  }

  /**
   * What the attempt changed in the user's checkout outside its worktree: a CLI that trusted the
   * agent's directory, or wrote by absolute path. Nothing is reverted: the files are the user's now
   * as much as the CLI's. Returns the `wrong_file` message, or undefined.
   */
  async outsideChanges(workspace: WorktreeWorkspace): Promise<string | undefined> {
    const before = this.checkouts.get(workspace.worktree);
    this.checkouts.delete(workspace.worktree);
    if (before === undefined) return undefined;
    const after = await snapshotCheckout(workspace.repo);
    if (after === undefined) return undefined;
    // The agent merged another attempt into this checkout meanwhile (apply): its commit is not the CLI's.
    const merged = (this.merges.get(workspace.repo) ?? 0) !== before.merges;
    const paths = await changedFiles(
      before.snapshot,
      merged ? { ...after, head: before.snapshot.head } : after,
      workspace.repo,
    );
    if (paths.length === 0) return undefined;
    const named =
      paths.slice(0, NAMED_PATHS).join(", ") +
      (paths.length > NAMED_PATHS ? `, and ${paths.length - NAMED_PATHS} more` : "");
    return `the CLI changed files outside its worktree, in ${workspace.repo}: ${named}. They were left as they are: look at them there (git -C ${workspace.repo} status), keep or undo them yourself; the attempt's own work is on ${workspace.branch}. A CLI that trusts $PWD or writes by absolute path does this; changes a person or another in-place task made in that checkout meanwhile show here too`;
  }
}
