import type * as Party from "partykit/server";
import { type NotificationEmit, type NotificationEvent, PartyName, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { askRoom } from "../room-peers.ts";

/**
 * Hands events to the notification outbox (docs/notifications.md). Fire and forget: callers never
 * await it on a task's path, and it never throws; the outbox stores the events before it answers, and
 * delivers and retries from there. Without MESH_WEBHOOK_URLS nothing is sent at all.
 */
export function announce(
  parties: Party.Context["parties"] | null,
  env: Record<string, unknown>,
  events: readonly NotificationEvent[],
): Promise<void> {
  const secrets = readSecrets(env);
  if (
    parties === null ||
    events.length === 0 ||
    typeof env.MESH_WEBHOOK_URLS !== "string" ||
    env.MESH_WEBHOOK_URLS.trim() === ""
  )
    return Promise.resolve();
  // Never a call with an empty token: a server without its secrets says so and sends nothing.
  if ("code" in secrets)
    return Promise.resolve(
      console.error(
        `notifications: ${events.map((e) => e.type).join(", ")} not handed to the outbox: ${secrets.message}`,
      ),
    );
  const emit: NotificationEmit = { type: "notification.emit", events: [...events] };
  return askRoom(parties, PartyName.notifications, SINGLETON_ROOM_ID, secrets.orchestratorToken, "/", {
    method: "POST",
    body: emit,
  })
    .then((answer) => {
      if (!answer.ok)
        console.warn(
          `notifications: could not hand ${events.map((e) => e.type).join(", ")} to the outbox: ${answer.error.message}`,
        );
    })
    .catch((error: unknown) => console.warn(`notifications: the outbox could not be reached: ${String(error)}`));
}
