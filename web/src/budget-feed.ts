// Follows the budget room: every budget.snapshot it sends (on connect and on each change, the monthly alert among
// them).
import {
  type BudgetStatus,
  BudgetToDashboard,
  type ErrorBody,
  PartyName,
  SINGLETON_ROOM_ID,
} from "../../protocol/index.ts";
import { type MeshSocket, openMeshSocket } from "./mesh-socket.ts";
import type { SocketHealth } from "./socket-health.ts";

export type BudgetFeedHandlers = {
  onStatus: (status: BudgetStatus) => void;
  onError: (error: ErrorBody) => void;
  onHealth: (health: SocketHealth) => void;
};

export function followBudget(token: string, handlers: BudgetFeedHandlers): MeshSocket {
  return openMeshSocket<BudgetToDashboard, never>({
    party: PartyName.budget,
    room: SINGLETON_ROOM_ID,
    token,
    schema: BudgetToDashboard,
    onMessage: (message) => handlers.onStatus(message.status),
    onBadFrame: handlers.onError,
    onHealth: handlers.onHealth,
  });
}
