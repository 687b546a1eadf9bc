import { type LogLine, MAX_LOG_READ, type TaskToViewer } from "../../protocol/index.ts";
import type { LogStore } from "./log-store.ts";

/** What the feed needs of a connection: its id and a way to send. */
export type FeedConnection = { id: string; send(frame: string): void };

/**
 * Delivers a task's log to viewers: stored lines first, then live ones, each line exactly once
 * and in seq order. A subscriber is caught up by reading storage in pages until it reaches the
 * log's end, and marked live in the same synchronous step that checks it reached the end, so no
 * line published meanwhile can slip between the replay and the live feed.
 */
export class ViewerFeed {
  /** Live subscribers and the first seq each asked for. */
  private readonly live = new Map<string, { connection: FeedConnection; sinceSeq: number }>();
  /** The replay each subscriber runs now; a newer subscribe or a close cancels it. */
  private readonly replays = new Map<string, symbol>();

  constructor(private readonly log: LogStore) {}

  async subscribe(connection: FeedConnection, sinceSeq: number): Promise<void> {
    this.live.delete(connection.id);
    const replay = Symbol(connection.id);
    this.replays.set(connection.id, replay);
    let from = sinceSeq;
    while (from < this.log.nextSeq) {
      const lines = await this.log.read(from, MAX_LOG_READ);
      if (this.replays.get(connection.id) !== replay) return;
      const last = lines.at(-1);
      if (last === undefined) break;
      connection.send(frame({ type: "log.lines", lines }));
      from = last.seq + 1;
    }
    this.replays.delete(connection.id);
    this.live.set(connection.id, { connection, sinceSeq });
  }

  /** Sends freshly numbered lines to every live subscriber (serialised once for all). */
  publish(lines: readonly LogLine[]): void {
    if (this.live.size === 0 || lines.length === 0) return;
    const all = frame({ type: "log.lines", lines: [...lines] });
    for (const { connection, sinceSeq } of this.live.values()) {
      if ((lines[0]?.seq ?? 0) >= sinceSeq) connection.send(all);
      else {
        const wanted = lines.filter((line) => line.seq >= sinceSeq);
        if (wanted.length > 0) connection.send(frame({ type: "log.lines", lines: wanted }));
      }
    }
  }

  drop(connectionId: string): void {
    this.live.delete(connectionId);
    this.replays.delete(connectionId);
  }
}

function frame(message: TaskToViewer): string {
  return JSON.stringify(message);
}
