// Follows one task room: its snapshots and its log, resubscribing after a reconnect from the line after the last one
// held.
import {
  type ErrorBody,
  type LogLine,
  PartyName,
  type TaskRecord,
  TaskToViewer,
  type ViewerToTask,
} from "../../protocol/index.ts";
import { type MeshSocket, openMeshSocket } from "./mesh-socket.ts";
import { SeqLedger } from "./seq-ledger.ts";
import type { SocketHealth } from "./socket-health.ts";

export type TaskFeedHandlers = {
  onTask: (task: TaskRecord) => void;
  /** Lines not seen before, in the order they arrived. */
  onLines: (lines: LogLine[], totalLines: number) => void;
  /** An `error` message from the room, or a frame that did not parse. */
  onError: (error: ErrorBody) => void;
  onHealth: (health: SocketHealth) => void;
};

export function followTask(taskId: string, token: string, handlers: TaskFeedHandlers): MeshSocket {
  const ledger = new SeqLedger();
  return openMeshSocket<TaskToViewer, ViewerToTask>({
    party: PartyName.task,
    room: taskId,
    token,
    schema: TaskToViewer,
    onOpen: (send) => send({ type: "logs.subscribe", since_seq: ledger.nextSince() }),
    onMessage: (message) => {
      if (message.type === "task.snapshot") return handlers.onTask(message.task);
      if (message.type === "error") return handlers.onError({ code: message.code, message: message.message });
      // The room sends each line once; a replay racing a reconnect could still repeat one.
      const fresh = message.lines.filter((line) => ledger.add(line.seq));
      if (fresh.length > 0) handlers.onLines(fresh, ledger.count);
    },
    onBadFrame: handlers.onError,
    onHealth: handlers.onHealth,
  });
}
