import type { Result } from "../../protocol/index.ts";
import { StoredDiffPiece } from "../../protocol/task-records.ts";
import { listStored, type StorageFault } from "../stored-records.ts";
import type { LogStorage } from "./log-store.ts";

const diffPrefix = (attempt: number): string => `diff:${String(attempt).padStart(3, "0")}:`;
const diffKey = (attempt: number, index: number): string => `${diffPrefix(attempt)}${String(index).padStart(4, "0")}`;

/**
 * Each attempt's diff (base → its commit), stored like the log: in pieces of at most
 * DIFF_CHUNK_CHARS, one key each, as the agent sends them (docs/work-isolation.md). A piece sent again after a
 * reconnect lands on the same key. Which pieces arrived is known in memory for the attempts whose
 * agents are connected now: after a restart the agent sends every piece again before its exit.
 */
export class DiffStore {
  private readonly received = new Map<number, Set<number>>();

  /** `where` names the reader (the room) in the log line a corrupt piece gets. */
  constructor(
    private readonly storage: LogStorage,
    private readonly where = "task diffs",
  ) {}

  /** Issues the write of one piece (not awaited: the output gate holds what is sent after it). */
  put(attempt: number, index: number, text: string): Promise<void> {
    let pieces = this.received.get(attempt);
    if (pieces === undefined) this.received.set(attempt, (pieces = new Set()));
    pieces.add(index);
    return this.storage.put({ [diffKey(attempt, index)]: text });
  }

  /** Whether pieces 0..count-1 of the attempt's diff all arrived on this room's watch. */
  complete(attempt: number, count: number): boolean {
    const pieces = this.received.get(attempt);
    for (let i = 0; i < count; i++) if (pieces?.has(i) !== true) return false;
    return true;
  }

  /**
   * The attempt's stored diff ("" when it has none); a corrupt piece (logged) fails the whole read: half a patch never
   * applies.
   */
  async read(attempt: number): Promise<Result<string, StorageFault>> {
    const pieces = await listStored(this.storage, this.where, { prefix: diffPrefix(attempt) }, StoredDiffPiece);
    const corrupt = pieces.corrupt[0];
    return corrupt === undefined
      ? { ok: true, value: [...pieces.records.values()].join("") }
      : { ok: false, error: corrupt };
  }

  /**
   * The attempt's diff; undefined when its stored pieces are corrupt (logged as read): a later prompt or a carried
   * session goes without it.
   */
  async text(attempt: number): Promise<string | undefined> {
    const diff = await this.read(attempt);
    return diff.ok ? diff.value : undefined;
  }
}
