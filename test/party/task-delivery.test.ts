// Delivery in the task actor (docs/delivery.md): a succeeded repo task asks its result's agent to
// deliver; the answer is recorded on the task, which stays succeeded whatever the remote said.
import { describe, expect, it } from "vitest";
import {
  decide,
  emptyTaskActor,
  type TaskActorContext,
  type TaskActorState,
  type TaskEffect,
  type TaskEvent,
} from "../../party/task-room/task-actor.ts";
import { deliveryRequestOf, pullRequestText } from "../../party/task-room/task-delivery.ts";
import {
  type AttemptExit,
  type ExecutorTier,
  ok,
  refuse,
  type TaskCreate,
  type TaskRecord,
} from "../../protocol/index.ts";

const TASK_ID = "01J00000000000000000000000";
const ALL: ExecutorTier[] = ["deepseek", "gemini-flash", "gemini-pro", "codex", "sonnet", "opus"];
const SHA = "3f1c2a9b8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";
const MIRROR = "/state/mirrors/github.com/acme/project.git";

function clock(start = 1000): () => TaskActorContext {
  let now = start;
  return () => ({
    now: (now += 10),
    taskId: TASK_ID,
    config: { consensusTiers: ["opus", "sonnet"], consensusSize: 2 },
  });
}

const create = (overrides: Partial<TaskCreate> = {}): TaskCreate => ({
  type: "task.create",
  task_id: TASK_ID,
  name: "fix-login",
  instruction: "Fix the login form\nand its test",
  tier: "deepseek",
  agent_selector: { by: "any" },
  repo: "https://github.com/acme/project.git",
  deliver: "push",
  ...overrides,
});
const worked = (overrides: Partial<AttemptExit> = {}): AttemptExit => ({
  type: "attempt.exit",
  attempt: 1,
  line_count: 0,
  exit_code: 0,
  signal: null,
  duration_ms: 5,
  isolation: "worktree",
  branch: "mesh/fix-login/1-deepseek",
  base: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
  commit: SHA,
  diff_stat: { files: 1, insertions: 2, deletions: 0 },
  checkout: { repo: MIRROR, branch: "main" },
  cost_usd: 0.02,
  acceptance: { command: "npm test", exit_code: 0, passed: true, output_tail: "12 passed" },
  ...overrides,
});

function succeeded(
  overrides: Partial<TaskCreate> = {},
  exit: AttemptExit = worked(),
): { state: TaskActorState; effects: TaskEffect[] } {
  const ctx = clock();
  const events: TaskEvent[] = [
    { type: "create-requested", command: create(overrides) },
    { type: "admission-answered", reservation: ok({}), claim: ok({}), served: ALL },
    {
      type: "start-answered",
      hello: { type: "attempt.hello", protocol_version: 1, agent: "vm-1", attempt: 1, executor: "cli" },
      connectionId: "c-1",
      grant: ok({ cap_usd: 1.5, estimate_usd: 0.45 }),
      linesStored: 0,
    },
    { type: "attempt-exited", exit, agent: "vm-1", connectionId: "c-1", missingLines: 0, served: ALL },
  ];
  let state = emptyTaskActor();
  let effects: TaskEffect[] = [];
  for (const event of events) ({ state, effects } = decide(state, event, ctx()));
  return { state, effects };
}

/** The task a run left: none fails the test here. */
function taskOf(state: TaskActorState): TaskRecord {
  if (state.task === null) throw new Error("the events left no task");
  return state.task;
}

describe("delivery in the task actor", () => {
  it("a repo task with deliver push that succeeds asks its agent to push the result's commit from its mirror", () => {
    const { state, effects } = succeeded();
    expect(state.task?.status).toBe("succeeded");
    expect(effects.find((e) => e.kind === "ask-delivery")).toEqual({
      kind: "ask-delivery",
      request: {
        type: "delivery.request",
        agent: "vm-1",
        task_id: TASK_ID,
        attempt: 1,
        mode: "push",
        repo: "https://github.com/acme/project.git",
        source: MIRROR,
        commit: SHA,
        remote_branch: "mesh/fix-login/1-deepseek",
        base_ref: "main",
      },
    });
  });

  it("asks nothing of a task with deliver none, without a repo, or whose result changed nothing", () => {
    expect(succeeded({ deliver: "none" }).effects.some((e) => e.kind === "ask-delivery")).toBe(false);
    expect(succeeded({ repo: undefined, deliver: undefined }).effects.some((e) => e.kind === "ask-delivery")).toBe(
      false,
    );
    const { commit: _commit, ...nothing } = worked({ diff_stat: { files: 0, insertions: 0, deletions: 0 } });
    const unchanged = succeeded({}, nothing);
    expect(unchanged.state.task?.status).toBe("succeeded");
    expect(deliveryRequestOf(taskOf(unchanged.state))).toBeUndefined();
  });

  it("records the pushed branch and the pull request on the task", () => {
    const { state } = succeeded({ deliver: "pr" });
    const answer = decide(
      state,
      {
        type: "delivery-answered",
        attempt: 1,
        mode: "pr",
        outcome: ok({
          ok: true,
          remote_branch: "mesh/fix-login/1-deepseek",
          pushed_commit: SHA,
          pr_url: "https://github.com/acme/project/pull/7",
        }),
      },
      clock(5000)(),
    );
    expect(answer.state.task).toMatchObject({
      status: "succeeded",
      delivery: {
        mode: "pr",
        remote_branch: "mesh/fix-login/1-deepseek",
        pushed_commit: SHA,
        pr_url: "https://github.com/acme/project/pull/7",
      },
    });
    expect(answer.effects[0]).toMatchObject({ kind: "store-task", note: expect.stringContaining("pull/7") });
  });

  it("a refused push is delivery.error with the remote's words; the task stays succeeded", () => {
    const { state } = succeeded();
    const answer = decide(
      state,
      {
        type: "delivery-answered",
        attempt: 1,
        mode: "push",
        outcome: ok({ ok: false, code: "push_refused", message: "remote: GH006: Protected branch" }),
      },
      clock(5000)(),
    );
    expect(answer.state.task).toMatchObject({
      status: "succeeded",
      result: { attempt: 1, commit: SHA },
      delivery: { mode: "push", error: { code: "push_refused", message: "remote: GH006: Protected branch" } },
    });
  });

  it("an agent the registry does not reach is agent_offline", () => {
    const { state } = succeeded();
    const answer = decide(
      state,
      {
        type: "delivery-answered",
        attempt: 1,
        mode: "push",
        outcome: refuse("agent_offline", "agent vm-1 is not connected"),
      },
      clock(5000)(),
    );
    expect(answer.state.task?.delivery).toEqual({
      mode: "push",
      error: { code: "agent_offline", message: "agent vm-1 is not connected" },
    });
  });

  it("apply on a repo task asks the agent to merge into the base branch of the remote, from its mirror", () => {
    const { state } = succeeded();
    const step = decide(state, { type: "apply-requested" }, clock(5000)());
    expect(step.effects).toEqual([
      {
        kind: "ask-apply",
        request: expect.objectContaining({
          type: "apply.request",
          agent: "vm-1",
          repo: MIRROR,
          remote: "https://github.com/acme/project.git",
          target_branch: "main",
          commit: SHA,
        }),
      },
    ]);
  });

  it("the pull request's title is the task's name, its body the attempts, acceptance, cost and link", () => {
    const { state } = succeeded({ deliver: "pr" });
    const text = pullRequestText(taskOf(state), `https://mesh.example/#task=${TASK_ID}`);
    expect(text.title).toBe("fix-login");
    expect(text.body).toContain("| 1 | deepseek | succeeded | $0.0200 |");
    expect(text.body).toContain("Acceptance: `npm test` passed (exit 0)");
    expect(text.body).toContain("12 passed");
    expect(text.body).toContain(`Task: https://mesh.example/#task=${TASK_ID}`);
    expect(pullRequestText({ ...taskOf(state), name: undefined }, undefined).title).toBe("Fix the login form");
  });
});
