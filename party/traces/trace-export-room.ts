import type * as Party from "partykit/server";
import { otlpTracesUrl, SpansExport } from "../../protocol/index.ts";
import { json } from "../http/responses.ts";
import { MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { sendSpans } from "./otlp-sender.ts";
import { SpanBuffer } from "./span-buffer.ts";

/**
 * Spans held while the collector is busy: a few hundred tasks' worth (a task has ~2 spans an attempt, plus its own).
 */
export const SPAN_QUEUE_CAP = 2048;
/** Spans per OTLP request: OpenTelemetry's batch processor sends at most 512 at once. */
const BATCH_SPANS = 512;
/** How long one export may take (OpenTelemetry's OTEL_EXPORTER_OTLP_TIMEOUT default, 10 s). */
const EXPORT_TIMEOUT_MS = 10_000;

/**
 * The trace exporter (one room, id "main"; docs/traces.md): task rooms hand it a finished task's spans
 * without waiting, it queues them (bounded) and sends them to `MESH_OTLP_URL` as OTLP/HTTP JSON, one
 * request at a time: what arrives while a request is out goes in the next one, so spans batch by
 * themselves under load. A failed or slow request drops its batch, counted; nothing is retried, and
 * nothing here is stored: a restart loses the queue (at most SPAN_QUEUE_CAP spans) and the counters.
 */
export default class TraceExportRoom extends MeshRoom<SpansExport> {
  static override readonly sockets: SocketPolicy = {
    open: false,
    message: "the trace exporter has no sockets; use GET /api/traces",
  };
  protected readonly commands = SpansExport;
  private readonly buffer = new SpanBuffer(SPAN_QUEUE_CAP);
  private sending = false;

  protected override onRead(): Response {
    return json(this.buffer.status(otlpTracesUrl(this.room.env)));
  }

  protected async onCommand(command: SpansExport): Promise<Response> {
    const endpoint = otlpTracesUrl(this.room.env);
    const spans = command.spans;
    if (endpoint === null) {
      this.buffer.settle(spans.length, "MESH_OTLP_URL is not set to an http(s) URL", Date.now());
      return json({ queued: 0 }, 202);
    }
    const queued = this.buffer.offer(spans);
    if (!this.sending) void this.drain(endpoint);
    return json({ queued }, 202);
  }

  /** Sends batches until the queue is empty; one request at a time. */
  private async drain(endpoint: string): Promise<void> {
    this.sending = true;
    try {
      for (let batch = this.buffer.take(BATCH_SPANS); batch.length > 0; batch = this.buffer.take(BATCH_SPANS)) {
        const failure = await sendSpans(endpoint, batch, EXPORT_TIMEOUT_MS);
        if (failure !== null) console.warn(`traces: ${batch.length} spans dropped: ${failure}`);
        this.buffer.settle(batch.length, failure, Date.now());
      }
    } finally {
      this.sending = false;
    }
  }
}

TraceExportRoom satisfies Party.Worker;
