import type * as Party from "partykit/server";
import { AUDIT_KEEP, AuditAppend, AuditRecord, MAX_LOG_READ } from "../../protocol/index.ts";
import { errorResponse, json } from "../http/responses.ts";
import { MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { listStored } from "../stored-records.ts";

const RECORD_PREFIX = "r:";
/** Records are trimmed in batches of this many, so a full log costs one delete per batch, not one per append. */
const TRIM_BATCH = 500;

/**
 * The audit log (one room, id "main"; docs/http-api.md): every state-changing call, appended by the edge and
 * the registry, read with `GET /api/audit?since=<ms>`. Keys sort by time, so a read is one range
 * list; at most AUDIT_KEEP records stay (the oldest go). Holds names of credentials, never secrets.
 */
export default class AuditRoom extends MeshRoom<AuditAppend> {
  static override readonly sockets: SocketPolicy = {
    open: false,
    message: "the audit log has no sockets; use GET /api/audit?since=<ms>",
  };
  protected readonly commands = AuditAppend;
  private count: number | null = null;
  private last = 0;
  private sequence = 0;

  protected async onCommand(append: AuditAppend): Promise<Response> {
    const now = Date.now();
    // Two records in one ms keep their order: the key carries a sequence within the ms.
    this.sequence = now === this.last ? this.sequence + 1 : 0;
    this.last = now;
    const record: AuditRecord = { at: now, ...append.record };
    await this.room.storage.put(
      `${RECORD_PREFIX}${String(now).padStart(15, "0")}-${String(this.sequence).padStart(6, "0")}`,
      record,
    );
    this.count =
      (this.count ?? (await this.room.storage.list({ prefix: RECORD_PREFIX })).size) + (this.count === null ? 0 : 1);
    if (this.count > AUDIT_KEEP + TRIM_BATCH) {
      const oldest = await this.room.storage.list({ prefix: RECORD_PREFIX, limit: this.count - AUDIT_KEEP });
      await this.room.storage.delete([...oldest.keys()]);
      this.count -= oldest.size;
    }
    return json({ recorded: true }, 201);
  }

  protected override async onRead(url: URL): Promise<Response> {
    const sinceText = url.searchParams.get("since") ?? "0";
    const limitText = url.searchParams.get("limit") ?? String(MAX_LOG_READ);
    if (!/^\d+$/.test(sinceText)) return errorResponse("bad_request", "since: must be a time in ms since epoch");
    if (!/^\d+$/.test(limitText)) return errorResponse("bad_request", "limit: must be a non-negative integer");
    const limit = Math.min(MAX_LOG_READ, Math.max(1, Number(limitText)));
    const start = `${RECORD_PREFIX}${sinceText.padStart(15, "0")}`;
    // A record that does not parse is left out of the page (and logged): one bad record hides nothing else.
    const page = await listStored(this.room.storage, "audit", { start, prefix: RECORD_PREFIX, limit }, AuditRecord);
    return json({ records: [...page.records.values()] });
  }
}

AuditRoom satisfies Party.Worker;
