import type { AttemptDiff, LogBatch, LogLine, TaskToAgent } from "../../protocol/index.ts";
import type { AttemptHolders } from "./attempt-holders.ts";
import type { ChangeWaiters } from "./change-waiters.ts";
import type { DiffStore } from "./diff-store.ts";
import type { LogStore } from "./log-store.ts";
import { systemLine } from "./room-replies.ts";
import type { ViewerFeed } from "./viewer-feed.ts";

/** Lines of each attempt already stored, written with each batch: how duplicates are recognised. */
export const ATTEMPT_LINES_KEY = "attempt-lines";

/** Where an attempt's output goes: the log and its live viewers, the diff pieces, the long polls waiting on lines. */
export interface OutputStores {
  readonly roomId: string;
  readonly holders: AttemptHolders;
  readonly log: LogStore;
  readonly feed: ViewerFeed;
  readonly waiters: ChangeWaiters;
  readonly diffs: DiffStore;
}

/**
 * The hot path, outside the actor (output is not lifecycle; docs/task-room.md): numbers the new lines, issues their
 * write, publishes them, and answers with the acknowledgement to send at once; the output gate holds the ack until the
 * write is durable (docs/output-gate.md), so an acknowledged line is never lost.
 */
export function takeLogBatch(stores: OutputStores, batch: LogBatch, connectionId: string): TaskToAgent {
  const { holders, log } = stores;
  if (!holders.holds(connectionId, batch.attempt)) {
    return {
      type: "error",
      code: "not_assigned",
      message: `attempt ${batch.attempt} is not held by this connection; send attempt.hello first`,
      in_reply_to: batch.type,
    };
  }
  const expected = holders.linesOf(batch.attempt);
  const fresh = batch.lines.slice(Math.max(0, expected - batch.first_line));
  const missing = Math.max(0, batch.first_line - expected);
  if (fresh.length > 0) {
    const lines: Omit<LogLine, "seq">[] = [];
    if (missing > 0)
      lines.push(
        systemLine(
          batch.attempt,
          `[mesh] ${missing} output lines of attempt ${batch.attempt} were lost before they reached the mesh`,
        ),
      );
    for (const line of fresh) lines.push({ ...line, attempt: batch.attempt });
    const counts = holders.setLines(batch.attempt, batch.first_line + batch.lines.length);
    const appended = log.append(lines, { [ATTEMPT_LINES_KEY]: counts });
    stores.feed.publish(appended.lines);
    stores.waiters.linesArrived();
    appended.written.catch((error: unknown) =>
      console.error(`task ${stores.roomId}: storing output failed: ${String(error)}`),
    );
  }
  return { type: "log.ack", attempt: batch.attempt, next_line: holders.linesOf(batch.attempt) };
}

/**
 * A piece of the attempt's diff: stored at once; the exit that follows says how many pieces there were. Answers with
 * an error to send when the socket does not hold the attempt.
 */
export function takeDiffPiece(stores: OutputStores, piece: AttemptDiff, connectionId: string): TaskToAgent | undefined {
  if (!stores.holders.holds(connectionId, piece.attempt)) {
    return {
      type: "error",
      code: "not_assigned",
      message: `attempt ${piece.attempt} is not held by this connection; send attempt.hello first`,
      in_reply_to: piece.type,
    };
  }
  stores.diffs
    .put(piece.attempt, piece.index, piece.text)
    .catch((error: unknown) => console.error(`task ${stores.roomId}: storing a diff failed: ${String(error)}`));
  return undefined;
}
