import type { AttemptCap, TaskRecord } from "../../protocol/index.ts";
import {
  type Decision,
  refused,
  stored,
  type TaskActorContext,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "./task-events.ts";
import { attemptOf, isOpenAttempt, startAttempt } from "./task-state.ts";

// The start gate (docs/budget.md): an attempt runs only once the budget let it start. The agent's
// hello is held until the budget answers; a grant comes to the agent as `attempt.accepted` with
// the attempt's cap, a refusal as `attempt.closed` before anything was spawned.

/**
 * An agent says it runs an attempt: a reconnect of a running one is accepted again; a new one asks the budget first.
 */
export function onHello(
  state: TaskActorState,
  { hello, connectionId, linesStored }: Extract<TaskEvent, { type: "hello-received" }>,
  ctx: TaskActorContext,
): Decision {
  const task = state.task;
  if (task === null) return { state, effects: [] };
  const started = startAttempt(task, hello, ctx.now);
  if (!started.ok)
    return {
      state,
      effects: [
        {
          kind: "send-to-agent",
          connectionId,
          message: { type: "error", ...started.error, in_reply_to: hello.type },
          close: "not_assigned",
        },
      ],
    };
  if (started.value === task) return accepted(state, task, hello.attempt, hello.agent, connectionId, linesStored);
  // startAttempt accepted it, so the attempt exists.
  const tier = attemptOf(task, hello.attempt)?.tier;
  return { state, effects: tier === undefined ? [] : [{ kind: "ask-start", hello, tier, connectionId }] };
}

/**
 * The budget answered: a granted attempt starts with its cap (the task's remaining `max_cost_usd` or
 * the halt's share, whichever is lower); a refused one ends before it ran, its task fails
 * `budget_halted` (unless other attempts run), and the agent is told to spawn nothing.
 */
export function onStarted(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "start-answered" }>,
  ctx: TaskActorContext,
): Decision {
  const { hello, connectionId, grant, linesStored } = event;
  const task = state.task;
  if (task === null)
    return { state, effects: grant.ok ? [{ kind: "release-reservation", attempt: hello.attempt }] : [] };
  const started = startAttempt(task, hello, ctx.now);
  if (!started.ok) {
    // Cancelled or halted while the budget answered: what it granted goes back.
    const release: TaskEffect[] = grant.ok ? [{ kind: "release-reservation", attempt: hello.attempt }] : [];
    return {
      state,
      effects: [
        ...release,
        {
          kind: "send-to-agent",
          connectionId,
          message: { type: "error", ...started.error, in_reply_to: hello.type },
          close: "not_assigned",
        },
      ],
    };
  }
  if (started.value === task) return accepted(state, task, hello.attempt, hello.agent, connectionId, linesStored);
  if (!grant.ok) {
    // Any other answer (the budget unreachable) is not a refusal: the agent says hello again and is asked again.
    if (grant.error.code !== "budget_halted")
      return {
        state,
        effects: [
          {
            kind: "send-to-agent",
            connectionId,
            message: {
              type: "error",
              code: grant.error.code,
              message: `the budget could not be asked to start this attempt (${grant.error.message}); say hello again`,
              in_reply_to: hello.type,
            },
          },
        ],
      };
    const change = stored(
      task,
      notStarted(task, hello.attempt, grant.error.message, ctx.now),
      `attempt ${hello.attempt} not started on agent ${hello.agent}: ${grant.error.message}`,
      hello.attempt,
    );
    return {
      state: { ...state, task: change.task },
      effects: [
        ...change.effects,
        {
          kind: "send-to-agent",
          connectionId,
          message: { type: "error", code: "budget_halted", message: grant.error.message, in_reply_to: hello.type },
        },
        {
          kind: "send-to-agent",
          connectionId,
          message: { type: "attempt.closed", attempt: hello.attempt, status: "cancelled" },
        },
        { kind: "release-reservation", attempt: hello.attempt },
      ],
    };
  }
  const cap = capOf(task, grant.value.cap_usd);
  const running: TaskRecord = {
    ...started.value,
    attempts: started.value.attempts.map((a) => (a.n === hello.attempt ? { ...a, cap_usd: cap.usd } : a)),
  };
  const change = stored(
    task,
    running,
    `attempt ${hello.attempt} started at tier ${attemptOf(running, hello.attempt)?.tier} on agent ${hello.agent} (${hello.executor}), capped at $${cap.usd.toFixed(4)} (${capName(cap)})`,
    hello.attempt,
  );
  const effects: TaskEffect[] = [
    { kind: "bind-attempt", attempt: hello.attempt, connectionId, agent: hello.agent },
    ...change.effects,
    // The agent resends from the first line the room has not stored.
    {
      kind: "send-to-agent",
      connectionId,
      message: { type: "attempt.accepted", attempt: hello.attempt, next_line: linesStored, cap },
    },
  ];
  return { state: { ...state, task: change.task }, effects };
}

/** The breaker halted: an attempt still waiting for an agent ends unstarted and gives its reservation back. */
export function onHalted(
  state: TaskActorState,
  event: Extract<TaskEvent, { type: "budget-halted" }>,
  ctx: TaskActorContext,
): Decision {
  const task = state.task;
  if (task === null) return refused(state, "not_found", `no task ${ctx.taskId}`);
  const attempt = attemptOf(task, event.attempt);
  if (attempt?.status !== "dispatched")
    return refused(
      state,
      "conflict",
      `attempt ${event.attempt} is ${attempt?.status ?? "unknown"}; it is not waiting to start`,
    );
  const change = stored(
    task,
    notStarted(task, event.attempt, event.message, ctx.now),
    `attempt ${event.attempt} not started: ${event.message}`,
    event.attempt,
  );
  const effects: TaskEffect[] = [...change.effects, { kind: "release-reservation", attempt: event.attempt }];
  if (!change.task.attempts.some((a) => a.status === "dispatched")) effects.push({ kind: "withdraw-requests" });
  return { state: { ...state, task: change.task }, effects, reply: { ok: true, value: change.task } };
}

/** The attempt ends without having run; the task fails `budget_halted` unless other attempts are open. */
function notStarted(task: TaskRecord, n: number, message: string, now: number): TaskRecord {
  const attempts = task.attempts.map((a) =>
    a.n === n ? { ...a, status: "cancelled" as const, failure_class: "cancelled" as const, ended_at: now } : a,
  );
  const othersOpen = attempts.some(isOpenAttempt);
  return {
    ...task,
    attempts,
    ...(othersOpen ? {} : { status: "failed" as const, error: { code: "budget_halted" as const, message } }),
    updated_at: now,
  };
}

/** The attempt's cap: the budget's grant, or what the task's `max_cost_usd` leaves when that is lower. */
export function capOf(task: TaskRecord, grantUsd: number): AttemptCap {
  if (task.max_cost_usd === undefined) return { usd: grantUsd, of: "daily_halt" };
  const left = Math.max(0, task.max_cost_usd - task.cost_usd);
  return left <= grantUsd ? { usd: left, of: "task" } : { usd: grantUsd, of: "daily_halt" };
}

const capName = (cap: AttemptCap): string =>
  cap.of === "task" ? "what the task's max_cost_usd leaves" : "its share of the daily halt";

/** A reconnect of a running attempt: held again and accepted with the cap it started with. */
function accepted(
  state: TaskActorState,
  task: TaskRecord,
  n: number,
  agent: string,
  connectionId: string,
  linesStored: number,
): Decision {
  const attempt = attemptOf(task, n);
  const cap = attempt?.cap_usd === undefined ? undefined : startedCap(task, n, attempt.cap_usd);
  return {
    state,
    effects: [
      { kind: "bind-attempt", attempt: n, connectionId, agent },
      {
        kind: "send-to-agent",
        connectionId,
        message: {
          type: "attempt.accepted",
          attempt: n,
          next_line: linesStored,
          ...(cap === undefined ? {} : { cap }),
        },
      },
    ],
  };
}

/** Which limit a running attempt's stored cap came from: the task's when it equals what max_cost_usd left it. */
function startedCap(task: TaskRecord, n: number, usd: number): AttemptCap {
  if (task.max_cost_usd === undefined) return { usd, of: "daily_halt" };
  const others = task.attempts.filter((a) => a.n !== n && !isOpenAttempt(a)).reduce((sum, a) => sum + a.cost_usd, 0);
  return Math.abs(Math.max(0, task.max_cost_usd - others) - usd) < 1e-9
    ? { usd, of: "task" }
    : { usd, of: "daily_halt" };
}
