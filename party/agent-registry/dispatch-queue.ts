import { type AgentRecord, DEFAULT_PRIORITY, type DispatchRequest, type QueueEntry } from "../../protocol/index.ts";
import { selectorAllows, servesRequest } from "./dispatch-picker.ts";

// The registry's queue in serving order (docs/scheduling.md): highest priority
// first, first come first served within one; and the queue timeout of requests nobody serves.

const priorityOf = (request: DispatchRequest): number => request.priority ?? DEFAULT_PRIORITY;
const keyOf = (request: DispatchRequest): string => `${request.assign.task_id}:${request.assign.attempt}`;

/** Adds a request behind every request of its priority or higher: the queue stays in serving order. */
export function enqueue(pending: readonly DispatchRequest[], request: DispatchRequest): DispatchRequest[] {
  const priority = priorityOf(request);
  const at = pending.findIndex((queued) => priorityOf(queued) < priority);
  return at === -1 ? [...pending, request] : [...pending.slice(0, at), request, ...pending.slice(at)];
}

/** Puts requests in serving order, keeping the given order within a priority (the sort is stable). */
export function inServingOrder(pending: readonly DispatchRequest[]): DispatchRequest[] {
  return [...pending].sort((a, b) => priorityOf(b) - priorityOf(a));
}

/** The queue as `GET /api/queue` shows it. */
export function queueView(pending: readonly DispatchRequest[]): QueueEntry[] {
  return pending.map((request, i) => ({
    position: i + 1,
    task_id: request.assign.task_id,
    ...(request.assign.task_name === undefined ? {} : { name: request.assign.task_name }),
    attempt: request.assign.attempt,
    tier: request.assign.tier,
    priority: priorityOf(request),
    since: request.requested_at,
    selector: request.selector,
  }));
}

/** Since when each queued request has had no online agent that could ever take it (by `task:attempt`). */
export type UnservedSince = Readonly<Record<string, number>>;

export type QueueExpiry = {
  pending: DispatchRequest[];
  unserved: Record<string, number>;
  /** Requests taken off the queue: no agent served them for their whole queue timeout. */
  expired: { request: DispatchRequest; message: string }[];
  /** Whether the marks or the queue changed (and so must be stored). */
  changed: boolean;
};

/**
 * The queue timeout, on the watchdog's tick: a request whose tier no online agent the selector
 * allows serves is marked; one marked for its `queue_timeout_s` leaves the queue (its room fails
 * the attempt as `no_agent`). Agents that serve it but are busy do not count against it: a long
 * queue behind a busy fleet is waiting, not broken.
 */
export function expireUnserved(
  pending: readonly DispatchRequest[],
  unserved: UnservedSince,
  fleet: readonly AgentRecord[],
  now: number,
  /** The names of the agents that could serve a request (the registry's tier index); default the whole fleet. */
  servingNames?: (request: DispatchRequest) => readonly string[],
): QueueExpiry {
  // Each request looks at its tier's few agents, not the fleet: this runs every second while anything waits.
  const byName = servingNames === undefined ? undefined : new Map(fleet.map((agent) => [agent.name, agent]));
  const candidates = (request: DispatchRequest): readonly AgentRecord[] =>
    servingNames === undefined || byName === undefined
      ? fleet
      : servingNames(request).flatMap((name) => byName.get(name) ?? []);
  const marks: Record<string, number> = {};
  const kept: DispatchRequest[] = [];
  const expired: QueueExpiry["expired"] = [];
  let changed = false;
  for (const request of pending) {
    const key = keyOf(request);
    // A late beat (stale) is not a lost agent: it still counts as serving, so a registry stall does not start the
    // clock.
    if (
      candidates(request).some((agent) =>
        servesRequest(agent.state === "stale" ? { ...agent, state: "online" } : agent, request),
      )
    ) {
      kept.push(request);
      changed ||= unserved[key] !== undefined;
      continue;
    }
    const since = unserved[key] ?? now;
    changed ||= unserved[key] === undefined;
    const timeoutS = request.queue_timeout_s;
    if (timeoutS !== undefined && now - since >= timeoutS * 1000) {
      expired.push({ request, message: unservedMessage(request, fleet, timeoutS) });
      changed = true;
      continue;
    }
    marks[key] = since;
    kept.push(request);
  }
  changed ||= Object.keys(unserved).some((key) => marks[key] === undefined);
  return { pending: kept, unserved: marks, expired, changed };
}

/** What `no_agent` says: the tier, the wait, and what was online (of the agents the task may use). */
function unservedMessage(request: DispatchRequest, agents: readonly AgentRecord[], timeoutS: number): string {
  const { tier } = request.assign;
  const online = agents.filter((agent) => agent.state === "online" && selectorAllows(agent, request.selector));
  const listed = online.slice(0, 10).map((agent) => `${agent.name} (${agent.tiers.join(", ") || "no tiers"})`);
  const more = online.length > 10 ? ` and ${online.length - 10} more` : "";
  const whom =
    request.selector.by === "name"
      ? ` on agent ${request.selector.name}`
      : request.selector.by === "kind"
        ? ` on a ${request.selector.kind} agent`
        : "";
  const degraded = online.flatMap((agent) =>
    (request.needs ?? []).flatMap((need) =>
      agent.degraded?.[need] === undefined ? [] : [`${agent.name} cannot use ${need} now: ${agent.degraded[need]}`],
    ),
  );
  const what = `${online.length === 0 ? "no agent it may use was online" : `online: ${listed.join("; ")}${more}`}${degraded.length === 0 ? "" : `; ${degraded.slice(0, 3).join("; ")}`}`;
  return `no online agent served tier ${tier}${whom} for the queue timeout of ${timeoutS} s (${what}); start an agent that serves ${tier}, or create the task again with another executor or a longer queue_timeout_s`;
}
