import type { OtlpSpan, TraceExportStatus } from "../../protocol/index.ts";

/**
 * The trace room's bounded queue and its counters (docs/traces.md "Under faults"). Spans past the cap
 * are dropped at once and counted: a collector that is down or slow costs spans, never memory or the
 * time of the task that made them.
 */
export class SpanBuffer {
  private queue: OtlpSpan[] = [];
  private exported = 0;
  private dropped = 0;
  private lastError: { at: number; message: string } | undefined;

  constructor(readonly cap: number) {}

  /** Queues what fits; the rest is dropped. How many were queued. */
  offer(spans: readonly OtlpSpan[]): number {
    const room = Math.max(0, this.cap - this.queue.length);
    const taken = spans.slice(0, room);
    this.queue.push(...taken);
    this.dropped += spans.length - taken.length;
    return taken.length;
  }

  /** Up to `max` spans, oldest first, taken off the queue to be sent. */
  take(max: number): OtlpSpan[] {
    return this.queue.splice(0, max);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** A batch was sent: counted as exported, or dropped with why. */
  settle(count: number, failure: string | null, now: number): void {
    if (failure === null) this.exported += count;
    else {
      this.dropped += count;
      this.lastError = { at: now, message: failure };
    }
  }

  status(endpoint: string | null): TraceExportStatus {
    return {
      endpoint,
      queued: this.queue.length,
      queue_cap: this.cap,
      exported_total: this.exported,
      dropped_total: this.dropped,
      ...(this.lastError === undefined ? {} : { last_error: this.lastError }),
    };
  }
}
