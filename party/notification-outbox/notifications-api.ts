import { type NotificationsReply, PartyName, type Result, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import type { MeshContext } from "../edge/mesh-operations.ts";
import { askRoom } from "../room-peers.ts";

/**
 * `GET /api/notifications?since=<ms>`: each delivery changed since then, and the failure counter
 * (docs/notifications.md).
 */
export function getNotifications(ctx: MeshContext, since = 0): Promise<Result<NotificationsReply>> {
  return askRoom<NotificationsReply>(
    ctx.parties,
    PartyName.notifications,
    SINGLETON_ROOM_ID,
    ctx.secrets.orchestratorToken,
    `/?${new URLSearchParams({ since: String(since) })}`,
  );
}
