// Follows the fleet feed: every agents.snapshot the registry pushes there (on connect and at most once a second on
// changes).
import {
  type AgentRecord,
  type DashboardToRegistry,
  type ErrorBody,
  PartyName,
  RegistryToDashboard,
  SINGLETON_ROOM_ID,
} from "../../protocol/index.ts";
import { type MeshSocket, openMeshSocket } from "./mesh-socket.ts";
import type { SocketHealth } from "./socket-health.ts";

export type AgentsFeedHandlers = {
  onAgents: (agents: AgentRecord[], idleFlagS: number | undefined) => void;
  onError: (error: ErrorBody) => void;
  onHealth: (health: SocketHealth) => void;
};

export function followAgents(token: string, handlers: AgentsFeedHandlers): MeshSocket {
  return openMeshSocket<RegistryToDashboard, DashboardToRegistry>({
    party: PartyName.fleet,
    room: SINGLETON_ROOM_ID,
    token,
    schema: RegistryToDashboard,
    onMessage: (message) => {
      if (message.type === "agents.snapshot") handlers.onAgents(message.agents, message.idle_flag_s);
      else handlers.onError({ code: message.code, message: message.message });
    },
    onBadFrame: handlers.onError,
    onHealth: handlers.onHealth,
  });
}
