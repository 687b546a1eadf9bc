import {
  decide,
  emptyTaskActor,
  type TaskActorContext,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "../../party/task-room/task-actor.ts";
import { type AttemptExit, type ExecutorTier, ok, type TaskCreate } from "../../protocol/index.ts";

// Events and a fake clock shared by the task actor's tests (task-actor.test.ts, task-actor-cancel-consensus.test.ts,
// task-actor-decisions.test.ts).

export const TASK_ID = "01J00000000000000000000000";
export const ALL: ExecutorTier[] = ["deepseek", "gemini-flash", "gemini-pro", "codex", "sonnet", "opus"];

/** A fake clock: every event moves it on 10 ms, so each test reads times it can predict. */
export function clock(start = 1000): () => TaskActorContext {
  let now = start;
  return () => ({
    now: (now += 10),
    taskId: TASK_ID,
    config: { consensusTiers: ["opus", "sonnet"], consensusSize: 2 },
  });
}

export const create = (overrides: Partial<TaskCreate> = {}): TaskCreate => ({
  type: "task.create",
  task_id: TASK_ID,
  instruction: "fix the bug",
  tier: "deepseek",
  agent_selector: { by: "any" },
  ...overrides,
});
export const exitOf = (attempt: number, overrides: Partial<AttemptExit> = {}): AttemptExit => ({
  type: "attempt.exit",
  attempt,
  line_count: 0,
  exit_code: 0,
  signal: null,
  duration_ms: 5,
  ...overrides,
});
export const kinds = (effects: readonly TaskEffect[]): string[] => effects.map((e) => e.kind);

/** Feeds events one after another, as the room does. */
export function drive(
  events: TaskEvent[],
  state: TaskActorState = emptyTaskActor(),
  ctx = clock(),
): { state: TaskActorState; last: ReturnType<typeof decide> } {
  let last = decide(state, events[0] ?? { type: "room-resumed" }, ctx());
  for (const event of events.slice(1)) last = decide(last.state, event, ctx());
  return { state: last.state, last };
}

export const admitted = (served: ExecutorTier[] = ALL): TaskEvent => ({
  type: "admission-answered",
  reservation: ok({}),
  claim: ok({}),
  served,
});
export const hello = (attempt: number, agent = `agent-${attempt}`): TaskEvent => ({
  type: "hello-received",
  hello: { type: "attempt.hello", protocol_version: 1, agent, attempt, executor: "cli" },
  connectionId: `c-${attempt}`,
  linesStored: 0,
});
export const exit = (
  attempt: number,
  overrides: Partial<AttemptExit> = {},
  served: ExecutorTier[] = ALL,
): TaskEvent => ({
  type: "attempt-exited",
  exit: exitOf(attempt, overrides),
  agent: `agent-${attempt}`,
  connectionId: `c-${attempt}`,
  missingLines: 0,
  served,
});
export const reserved = (attempt: number): TaskEvent => ({ type: "reservation-answered", attempt, result: ok({}) });
/** The hello of attempt `attempt`'s agent, once the budget let it start (start-gate.ts) with $1.50 of the halt. */
export const run = (attempt: number, agent = `agent-${attempt}`): TaskEvent => {
  const event = hello(attempt, agent);
  if (event.type !== "hello-received") throw new Error("not a hello");
  return {
    type: "start-answered",
    hello: event.hello,
    connectionId: event.connectionId,
    grant: ok({ cap_usd: 1.5, estimate_usd: 0.45 }),
    linesStored: 0,
  };
};
