import { z } from "zod";
import { LogLine } from "./task.ts";

// What a task room keeps in its storage besides the task record itself (docs/rooms.md "Stored
// records"), parsed when it is read: the room reads its storage like any other input.

/** Lines of each attempt already stored, by attempt number (key `attempt-lines`): how a resent batch is recognised. */
export const AttemptLineCounts = z.record(z.string(), z.number().int().nonnegative());
export type AttemptLineCounts = z.infer<typeof AttemptLineCounts>;

/** The same count as builds that ran one attempt at a time stored it: read, never written. */
export const SingleAttemptLines = z.object({
  attempt: z.number().int().positive(),
  next_line: z.number().int().nonnegative(),
});
export type SingleAttemptLines = z.infer<typeof SingleAttemptLines>;

/** The `attempt-lines` record in either shape, read as counts by attempt. */
export const StoredAttemptLines = z.union([
  SingleAttemptLines.transform((old): AttemptLineCounts => ({ [String(old.attempt)]: old.next_line })),
  AttemptLineCounts,
]);

/**
 * One stored piece of the log (key `log:b:<first seq>`, or `log:c:<first seq>` in the older layout): consecutive lines.
 */
export const StoredLogPiece = z.array(LogLine);

/** The older layout's head (key `log:head`): read, never written; only where its lines end counts now. */
export const LegacyLogHead = z.object({ next_seq: z.number().int().nonnegative() });

/** One piece of an attempt's diff (key `diff:<attempt>:<index>`), as its agent sent it. */
export const StoredDiffPiece = z.string();
