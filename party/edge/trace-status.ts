import { PartyName, type Result, SINGLETON_ROOM_ID, type TraceExportStatus } from "../../protocol/index.ts";
import { askRoom } from "../room-peers.ts";
import type { MeshContext } from "./mesh-operations.ts";

/** `GET /api/traces`: where spans go, how many are queued, exported and dropped (docs/traces.md). */
export function getTraceStatus(ctx: MeshContext): Promise<Result<TraceExportStatus>> {
  return askRoom<TraceExportStatus>(
    ctx.parties,
    PartyName.traces,
    SINGLETON_ROOM_ID,
    ctx.secrets.orchestratorToken,
    "/",
  );
}
