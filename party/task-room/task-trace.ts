import type * as Party from "partykit/server";
import { MAX_SPANS_PER_EXPORT, PartyName, otlpTracesUrl, SINGLETON_ROOM_ID, type SpansExport, type TaskRecord } from "../../protocol/index.ts";
import { askRoom } from "../room-peers.ts";
import { isFinished } from "./task-state.ts";
import { taskSpans } from "./task-spans.ts";

/**
 * When a change finishes a task that has a trace, and `MESH_OTLP_URL` is set, hands its spans to the
 * trace room without waiting for it (docs/traces.md): the task's path never waits on the collector,
 * and a trace room that cannot be reached costs a warning, not the task.
 */
export function exportFinishedTrace(parties: Party.Context["parties"], env: Record<string, unknown>, token: () => string, before: TaskRecord | null, after: TaskRecord | null): void {
  if (after === null || after.trace_id === undefined || !isFinished(after) || (before !== null && isFinished(before))) return;
  if (otlpTracesUrl(env) === null) return;
  const request: SpansExport = { type: "spans.export", spans: taskSpans(after).slice(0, MAX_SPANS_PER_EXPORT) };
  void askRoom(parties, PartyName.traces, SINGLETON_ROOM_ID, token(), "/", { method: "POST", body: request }).then((answer) => {
    if (!answer.ok) console.warn(`task ${after.task_id}: its spans could not be handed to the trace room: ${answer.error.message}`);
  });
}
