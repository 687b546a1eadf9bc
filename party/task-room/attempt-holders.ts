import type { AttemptLineCounts } from "../../protocol/task-records.ts";

/**
 * Which agent connection runs which attempt of a task (several at once during consensus), and how
 * many lines of each attempt the room has stored: a resent batch is recognised by its line numbers.
 */
export type AttemptHolder = { connectionId: string; agent: string };

export class AttemptHolders {
  private readonly byAttempt = new Map<number, AttemptHolder>();

  constructor(private lineCounts: AttemptLineCounts) {}

  /**
   * From the stored counts (parsed with StoredAttemptLines, which reads earlier builds' shape too); none stored: none
   * counted.
   */
  static fromStored(stored: AttemptLineCounts | undefined): AttemptHolders {
    return new AttemptHolders(stored ?? {});
  }

  /** The connection that held `attempt` before this one, if another: the caller closes it. */
  hold(attempt: number, holder: AttemptHolder): string | null {
    const previous = this.byAttempt.get(attempt);
    this.byAttempt.set(attempt, holder);
    return previous !== undefined && previous.connectionId !== holder.connectionId ? previous.connectionId : null;
  }

  holderOf(attempt: number): AttemptHolder | undefined {
    return this.byAttempt.get(attempt);
  }

  holds(connectionId: string, attempt: number): boolean {
    return this.byAttempt.get(attempt)?.connectionId === connectionId;
  }

  release(attempt: number): void {
    this.byAttempt.delete(attempt);
  }

  /** A closed connection holds nothing any more. */
  dropConnection(connectionId: string): void {
    for (const [attempt, holder] of this.byAttempt)
      if (holder.connectionId === connectionId) this.byAttempt.delete(attempt);
  }

  linesOf(attempt: number): number {
    return this.lineCounts[String(attempt)] ?? 0;
  }

  /** Records the new count and returns the whole record, to be stored with the lines. */
  setLines(attempt: number, count: number): AttemptLineCounts {
    this.lineCounts = { ...this.lineCounts, [String(attempt)]: count };
    return this.lineCounts;
  }
}
