// Follows the task directory's list (docs/wire-protocol.md): subscribes on every open with where it was, so a
// reconnect brings only what changed meanwhile (or the whole list if the room restarted).
import {
  type DashboardToDirectory,
  DirectoryToDashboard,
  type ErrorBody,
  PartyName,
  SINGLETON_ROOM_ID,
} from "../../protocol/index.ts";
import { type MeshSocket, openMeshSocket } from "./mesh-socket.ts";
import type { SocketHealth } from "./socket-health.ts";
import type { TaskListModel } from "./task-list-model.ts";

export type TaskListFeedHandlers = {
  /** The model changed. */
  onChange: () => void;
  onError: (error: ErrorBody) => void;
  onHealth: (health: SocketHealth) => void;
};

export function followTaskList(token: string, model: TaskListModel, handlers: TaskListFeedHandlers): MeshSocket {
  return openMeshSocket<DirectoryToDashboard, DashboardToDirectory>({
    party: PartyName.directory,
    room: SINGLETON_ROOM_ID,
    token,
    schema: DirectoryToDashboard,
    onOpen: (send) =>
      send({
        type: "tasks.subscribe",
        ...(model.epoch === undefined ? {} : { epoch: model.epoch }),
        ...(model.seq === undefined ? {} : { seq: model.seq }),
      }),
    onMessage: (message) => {
      if (model.apply(message)) handlers.onChange();
      else if (message.type === "error") handlers.onError({ code: message.code, message: message.message });
    },
    onBadFrame: handlers.onError,
    onHealth: handlers.onHealth,
  });
}
