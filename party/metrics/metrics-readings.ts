import type * as Party from "partykit/server";
import type { z } from "zod";
import { PartyName, SINGLETON_ROOM_ID, TraceExportStatus } from "../../protocol/index.ts";
import { BudgetMetrics, DirectoryMetrics, RegistryMetrics } from "../../protocol/metrics.ts";
import { webhookFailuresTotal } from "../notification-outbox/outbox-counters.ts";
import { askRoom } from "../room-peers.ts";
import type { MeshReadings } from "./mesh-metrics.ts";

// One scrape's readings (docs/metrics.md): one internal request to each room, all at once. Each answer
// is parsed; a room that fails or answers something else counts as not answering.

type Parties = Party.FetchLobby["parties"];

async function read<T>(
  parties: Parties,
  party: PartyName,
  schema: z.ZodType<T>,
  token: string,
  path = "/?view=metrics",
): Promise<T | null> {
  const answer = await askRoom<unknown>(parties, party, SINGLETON_ROOM_ID, token, path);
  if (!answer.ok) {
    console.error(`metrics: the ${party} room did not answer: ${answer.error.code}: ${answer.error.message}`);
    return null;
  }
  const parsed = schema.safeParse(answer.value);
  if (!parsed.success)
    console.error(
      `metrics: the ${party} room's answer does not parse: ${parsed.error.issues[0]?.message ?? "invalid"}`,
    );
  return parsed.success ? parsed.data : null;
}

/** Every room's reading for one scrape, asked in parallel. */
export async function gatherReadings(parties: Parties, token: string): Promise<MeshReadings> {
  const [directory, registry, budget, webhookFailures, traces] = await Promise.all([
    read(parties, PartyName.directory, DirectoryMetrics, token),
    read(parties, PartyName.registry, RegistryMetrics, token),
    read(parties, PartyName.budget, BudgetMetrics, token),
    // The notification outbox's own reader of its counter (docs/notifications.md).
    webhookFailuresTotal(parties, token),
    // The trace exporter's status is its counters (docs/traces.md).
    read(parties, PartyName.traces, TraceExportStatus, token, "/"),
  ]);
  return { directory, registry, budget, webhookFailures, traces };
}
