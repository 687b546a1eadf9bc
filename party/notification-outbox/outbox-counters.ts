import type * as Party from "partykit/server";
import { PartyName, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { askRoom } from "../room-peers.ts";

/**
 * Failed webhook requests since the outbox began (each failed retry counts): what `GET /metrics`
 * shows as `agent_mesh_webhook_failures_total`. One small read of a counter the outbox keeps
 * (`GET /parties/notifications/main?view=counters`), never a scan of deliveries; null when the
 * outbox cannot be asked.
 */
export async function webhookFailuresTotal(parties: Party.Context["parties"], token: string): Promise<number | null> {
  const answer = await askRoom<{ webhook_failures_total?: unknown }>(
    parties,
    PartyName.notifications,
    SINGLETON_ROOM_ID,
    token,
    "/?view=counters",
  );
  return answer.ok && typeof answer.value.webhook_failures_total === "number"
    ? answer.value.webhook_failures_total
    : null;
}
