import type * as Party from "partykit/server";
import {
  MAX_SPANS_PER_EXPORT,
  otlpTracesUrl,
  PartyName,
  SINGLETON_ROOM_ID,
  type SpansExport,
  type TaskRecord,
} from "../../protocol/index.ts";
import { askRoom } from "../room-peers.ts";
import { taskSpans } from "./task-spans.ts";

/**
 * Hands a finished task's spans to the trace room when `MESH_OTLP_URL` is set, without waiting for it
 * (docs/traces.md): the task's path never waits on the collector, and a trace room that cannot be
 * reached costs a warning, not the task. The actor asks for it once, as the task ends (task-events.ts).
 */
export function exportSpans(
  parties: Party.Context["parties"],
  env: Record<string, unknown>,
  token: () => string,
  task: TaskRecord,
): void {
  if (otlpTracesUrl(env) === null) return;
  const request: SpansExport = { type: "spans.export", spans: taskSpans(task).slice(0, MAX_SPANS_PER_EXPORT) };
  void askRoom(parties, PartyName.traces, SINGLETON_ROOM_ID, token(), "/", { method: "POST", body: request }).then(
    (answer) => {
      if (!answer.ok)
        console.warn(`task ${task.task_id}: its spans could not be handed to the trace room: ${answer.error.message}`);
    },
  );
}
