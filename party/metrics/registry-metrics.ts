import {
  type AgentRecord,
  AgentState,
  type DispatchRequest,
  describeIssues,
  ExecutorTier,
} from "../../protocol/index.ts";
import { DISPATCH_BUCKETS_S, HistogramRecord, type RegistryMetrics } from "../../protocol/metrics.ts";
import { assignmentKey, type RegistryEffect, type RegistryState } from "../agent-registry/registry-actor.ts";

// The registry's part of `GET /metrics` (docs/metrics.md): the queue, agents and slots are read from
// the state it holds anyway; the dispatch wait is a histogram it adds to at each hand-out and keeps
// in storage, so a restart does not take it back to zero.

/** Where the registry keeps the dispatch wait histogram. */
export const DISPATCH_HISTOGRAM_KEY = "metrics:dispatch-seconds";

export function emptyHistogram(bounds: readonly number[] = DISPATCH_BUCKETS_S): HistogramRecord {
  return { bounds: [...bounds], counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 };
}

/** The histogram with these observations added (each in the first bucket whose bound it does not pass). */
export function observe(histogram: HistogramRecord, values: readonly number[]): HistogramRecord {
  if (values.length === 0) return histogram;
  const counts = [...histogram.counts];
  let sum = histogram.sum;
  for (const value of values) {
    const bucket = histogram.bounds.findIndex((bound) => value <= bound);
    const index = bucket === -1 ? histogram.bounds.length : bucket;
    counts[index] = (counts[index] ?? 0) + 1;
    sum += value;
  }
  return { ...histogram, counts, sum, count: histogram.count + values.length };
}

/**
 * Seconds each of these hand-outs waited since its dispatch request. The request's time comes from
 * the task room's clock: on Cloudflare another machine's, so a small skew is read as no wait at all.
 */
export function dispatchWaits(requests: readonly DispatchRequest[], now: number): number[] {
  return requests.map((request) => Math.max(0, now - request.requested_at) / 1000);
}

/** The requests a decision handed to agents (its `assign` effects), as the state after it holds them. */
export function handedOut(effects: readonly RegistryEffect[], assigned: RegistryState["assigned"]): DispatchRequest[] {
  return effects.flatMap((effect) =>
    effect.kind === "assign"
      ? (assigned[assignmentKey(effect.message.task_id, effect.message.attempt)]?.request ?? [])
      : [],
  );
}

/** Queue depth by tier, agents by state and slots of online agents: every tier and state named, zero or not. */
export function registryGauges(
  pending: readonly DispatchRequest[],
  agents: readonly AgentRecord[],
): Omit<RegistryMetrics, "dispatch"> {
  const queue = Object.fromEntries(ExecutorTier.options.map((tier) => [tier, 0])) as Record<ExecutorTier, number>;
  for (const request of pending) queue[request.assign.tier] += 1;
  const byState = Object.fromEntries(AgentState.options.map((state) => [state, 0])) as Record<AgentState, number>;
  let busy = 0;
  let idle = 0;
  for (const agent of agents) {
    byState[agent.state] += 1;
    // Only an online agent is handed work: a stale or lost one's slots are neither busy nor free.
    if (agent.state !== "online") continue;
    const held = Math.min(agent.running.length, agent.capacity);
    busy += held;
    idle += agent.capacity - held;
  }
  return { queue, agents: byState, slots: { busy, idle } };
}

/** What the histogram needs of the registry's storage. */
export type HistogramStorage = { get(key: string): Promise<unknown>; put(key: string, value: unknown): Promise<void> };

/**
 * The dispatch wait histogram in memory, loaded once and written after each hand-out (the write is
 * issued, not awaited, beside the registry's own: it never delays a `task.assign`). A stored one with
 * other bounds (a build that changed them) starts again from zero, as Prometheus allows a counter to.
 */
export class DispatchHistogram {
  private histogram: Promise<HistogramRecord> | null = null;

  constructor(private readonly storage: HistogramStorage) {}

  current(): Promise<HistogramRecord> {
    this.histogram ??= this.storage.get(DISPATCH_HISTOGRAM_KEY).then(
      (raw) => {
        const parsed = HistogramRecord.safeParse(raw);
        // A corrupt record is logged and starts again from zero, like one of other bounds (docs/rooms.md "Stored
        // records").
        if (raw !== undefined && !parsed.success)
          console.error(
            `registry: stored ${DISPATCH_HISTOGRAM_KEY} is corrupt (${describeIssues(parsed.error)}); counting from zero`,
          );
        const same =
          parsed.success &&
          parsed.data.bounds.length === DISPATCH_BUCKETS_S.length &&
          parsed.data.bounds.every((b, i) => b === DISPATCH_BUCKETS_S[i]) &&
          parsed.data.counts.length === DISPATCH_BUCKETS_S.length + 1;
        return same ? parsed.data : emptyHistogram();
      },
      () => emptyHistogram(),
    );
    return this.histogram;
  }

  /** Adds the waits of a decision's hand-outs (none: nothing happens). */
  record(effects: readonly RegistryEffect[], assigned: RegistryState["assigned"], now: number): void {
    const requests = handedOut(effects, assigned);
    if (requests.length === 0) return;
    const waits = dispatchWaits(requests, now);
    this.histogram = this.current().then((histogram) => {
      const next = observe(histogram, waits);
      void this.storage.put(DISPATCH_HISTOGRAM_KEY, next);
      return next;
    });
  }
}

/** The registry's answer to the edge's `?view=metrics`. */
export async function registryMetrics(
  pending: readonly DispatchRequest[],
  agents: readonly AgentRecord[],
  dispatch: DispatchHistogram,
): Promise<RegistryMetrics> {
  return { ...registryGauges(pending, agents), dispatch: await dispatch.current() };
}
