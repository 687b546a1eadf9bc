/**
 * New lines wake a long-poll reader after at most this long, so a chatty task reaches it in steps, not one per batch.
 */
const LINES_WAKE_MS = 25;
/** A long poll waits at most this long, below the platform's idle limits. */
const MAX_WAIT_MS = 25_000;

/**
 * The long poll behind MCP's `execute` and `result` (README "MCP"): a reader asks for changes past a
 * revision and is woken at once when the task changes, within `LINES_WAKE_MS` when only lines
 * arrived, or at its timeout. No timer polls storage.
 */
export class ChangeWaiters {
  /** Bumped on every change of the task (in memory): readers compare it. */
  revision = 0;
  private readonly waiting = new Set<() => void>();
  private linesTimer: ReturnType<typeof setTimeout> | null = null;

  taskChanged(): void {
    this.revision++;
    this.wake();
  }

  linesArrived(): void {
    if (this.waiting.size === 0) return;
    this.linesTimer ??= setTimeout(() => this.wake(), LINES_WAKE_MS);
  }

  /**
   * Resolves at once if the task changed since `revision`; else at the next change, soon after new lines, or after
   * `timeoutMs`.
   */
  async changeAfter(revision: number, linesWaiting: boolean, timeoutMs: number): Promise<void> {
    if (revision !== this.revision) return;
    const limit = Math.min(Math.max(0, timeoutMs), linesWaiting ? LINES_WAKE_MS : MAX_WAIT_MS);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, limit);
      const waiting = this.waiting;
      function done(): void {
        clearTimeout(timer);
        waiting.delete(done);
        resolve();
      }
      this.waiting.add(done);
    });
  }

  private wake(): void {
    if (this.linesTimer !== null) clearTimeout(this.linesTimer);
    this.linesTimer = null;
    for (const done of [...this.waiting]) done();
  }
}
