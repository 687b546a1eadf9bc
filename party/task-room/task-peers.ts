import type * as Party from "partykit/server";
import {
  type AgentSelector,
  type ApplyOutcome,
  ApplyReply,
  type ApplyRequest,
  type Attempt,
  BudgetGrant,
  type DeliveryOutcome,
  DeliveryReply,
  type DeliveryRequest,
  type DispatchRequest,
  type ExecutorTier,
  formatTraceparent,
  type LogLine,
  type Result,
  refuse,
  type SessionArchiveRef,
  spanIdOf,
  type TaskDependency,
  type TaskRecord,
  type TaskSummary,
} from "../../protocol/index.ts";
import { sendToBudget, sendToDirectory, sendToRegistry, sendToTask, servedTiers } from "../room-peers.ts";
import { attemptPrompt } from "./attempt-context.ts";
import { prerequisiteNews } from "./prerequisite-answers.ts";
import type { RegistrySocket } from "./registry-socket.ts";
import { resumeOf } from "./task-schedule.ts";
import { attemptOf, lostAgents } from "./task-state.ts";

/** What the admission of a new task heard back (the task actor's `admitted` event). */
export type Admission = { reservation: Result<unknown>; claim: Result<unknown>; served: ExecutorTier[] };

/** The other rooms as one task room speaks to them: each call is one effect of the task actor. */
export class TaskPeers {
  constructor(
    private readonly parties: Party.Context["parties"],
    /** Asked at each call, so an effect that calls no room never needs it (docs/settings.md). */
    private readonly token: () => string,
    private readonly taskId: string,
    /** The task's kind, for the budget's spend by kind. */
    private readonly kind?: string,
  ) {}

  /**
   * Asks each task this one is after to tell it when it ends; the answers, as news of each (prerequisite-answers.ts).
   */
  async watch(ids: readonly string[]): Promise<ReturnType<typeof prerequisiteNews>> {
    return prerequisiteNews(
      ids,
      await Promise.all(
        ids.map((id) => sendToTask(this.parties, this.token(), id, { type: "task.watch", dependent: this.taskId })),
      ),
    );
  }

  /** Tells the tasks that wait for this one that it ended. */
  notify(dependents: readonly string[], news: TaskDependency): Promise<Result<unknown>[]> {
    return Promise.all(
      dependents.map((id) =>
        this.logged(`tell task ${id} this one ended`, sendToTask(this.parties, this.token(), id, news)),
      ),
    );
  }

  /** The breaker, the name and the served tiers, asked at once: none depends on another. */
  async admit(tier: ExecutorTier | undefined, summary: TaskSummary, selector: AgentSelector): Promise<Admission> {
    const [reservation, claim, served] = await Promise.all([
      tier === undefined ? Promise.resolve({ ok: true as const, value: null }) : this.reserve(1, tier),
      sendToDirectory(this.parties, this.token(), { type: "task.register", summary }),
      servedTiers(this.parties, this.token(), selector),
    ]);
    return { reservation, claim, served };
  }

  reserve(attempt: number, tier: ExecutorTier): Promise<Result<unknown>> {
    return sendToBudget(this.parties, this.token(), { type: "budget.reserve", task_id: this.taskId, attempt, tier });
  }

  /** The start gate: asks the budget to let an attempt start now; the grant carries what the daily halt leaves it. */
  async start(attempt: number, tier: ExecutorTier, executor: string): Promise<Result<BudgetGrant>> {
    const answer = await sendToBudget(this.parties, this.token(), {
      type: "budget.start",
      task_id: this.taskId,
      attempt,
      tier,
      executor,
    });
    if (!answer.ok) return answer;
    const grant = BudgetGrant.safeParse(answer.value);
    return grant.success
      ? { ok: true, value: grant.data }
      : refuse("internal", "the budget's answer to budget.start was not understood");
  }

  release(attempt: number): Promise<Result<unknown>> {
    return this.logged(
      "release a reservation",
      sendToBudget(this.parties, this.token(), { type: "budget.release", task_id: this.taskId, attempt }),
    );
  }

  unlist(): Promise<Result<unknown>> {
    return this.logged(
      "unlist the task",
      sendToDirectory(this.parties, this.token(), { type: "task.unlisted", task_id: this.taskId }),
    );
  }

  index(summary: TaskSummary): Promise<Result<unknown>> {
    return this.logged(
      "index the task",
      sendToDirectory(this.parties, this.token(), { type: "task.indexed", summary }),
    );
  }

  withdraw(): Promise<Result<unknown>> {
    return this.logged(
      "withdraw its dispatch",
      sendToRegistry(this.parties, this.token(), { type: "dispatch.withdraw", task_id: this.taskId }),
    );
  }

  /** Tells the budget what an ended attempt really cost: its reservation is replaced and it joins the stage ledger. */
  settle(attempt: Attempt): Promise<Result<unknown>> {
    const stage = {
      task_id: this.taskId,
      attempt: attempt.n,
      tier: attempt.tier,
      agent: attempt.agent,
      ...(attempt.model === undefined ? {} : { model: attempt.model }),
      tokens: attempt.tokens,
      cost_usd: attempt.cost_usd,
      latency_ms: attempt.latency_ms,
      outcome: attempt.status,
      ...(attempt.failure_class === undefined ? {} : { failure_class: attempt.failure_class }),
      ...(this.kind === undefined ? {} : { kind: this.kind }),
      ...(attempt.executor === "" ? {} : { executor: attempt.executor }),
    };
    return this.logged(
      `settle attempt ${attempt.n}`,
      sendToBudget(this.parties, this.token(), { type: "budget.settle", stage }),
    );
  }

  /** Asks the attempt's agent, through the registry, to merge its branch; the agent's outcome. */
  async apply(request: ApplyRequest): Promise<Result<ApplyOutcome>> {
    const answer = await sendToRegistry(this.parties, this.token(), request);
    if (!answer.ok) return answer;
    const parsed = ApplyReply.safeParse(answer.value);
    return parsed.success
      ? { ok: true, value: parsed.data.outcome }
      : refuse("internal", "the registry's answer to apply was not understood");
  }

  /** Asks the result's agent, through the registry, to deliver it (docs/delivery.md); the agent's outcome. */
  async deliver(request: DeliveryRequest): Promise<Result<DeliveryOutcome>> {
    const answer = await sendToRegistry(this.parties, this.token(), request);
    if (!answer.ok) return answer;
    const parsed = DeliveryReply.safeParse(answer.value);
    return parsed.success
      ? { ok: true, value: parsed.data.outcome }
      : refuse("internal", "the registry's answer to the delivery was not understood");
  }

  /** The task ended: the agents that ran its attempts may remove its worktrees, all but the winner's. */
  ended(agents: string[], keep: number | undefined): Promise<Result<unknown>> {
    return this.logged(
      "tell agents the task ended",
      sendToRegistry(this.parties, this.token(), {
        type: "task.ended",
        task_id: this.taskId,
        agents,
        ...(keep === undefined ? {} : { keep }),
      }),
    );
  }

  /** Asks the registry for an agent: the request carries the exact `task.assign` the agent will get. */
  async dispatch(
    task: TaskRecord,
    n: number,
    recent: readonly LogLine[],
    diffs: ReadonlyMap<number, string> = new Map(),
    socket?: RegistrySocket,
    queueTimeoutS = 600,
    archiveOf?: (attempt: number) => Promise<SessionArchiveRef | undefined>,
  ): Promise<Result<unknown>> {
    const attempt = attemptOf(task, n);
    if (attempt === undefined) return refuse("internal", `task ${task.task_id} has no attempt ${n}`);
    const { resume: proposed } = resumeOf(task, attempt);
    // The earlier session's file, when the room keeps it: an agent other than its own can continue it
    // (docs/sessions.md).
    const archive = proposed === undefined ? undefined : await archiveOf?.(proposed.attempt);
    const resume = proposed === undefined || archive === undefined ? proposed : { ...proposed, archive };
    const excluded = lostAgents(task);
    // What the task's own max_cost_usd leaves; the budget's share of the daily halt comes with
    // attempt.accepted, when the attempt is let start (docs/budget.md "The start gate").
    const cap = task.max_cost_usd === undefined ? 0 : Math.max(0.0001, task.max_cost_usd - task.cost_usd);
    const base = task.base ?? task.base_ref;
    // Isolation is asked of a task with a cwd unless it says none: only an agent that can make worktrees takes it.
    const needsWorktree = (task.cwd !== undefined || task.repo !== undefined) && task.isolation !== "none";
    const request: DispatchRequest = {
      type: "dispatch.request",
      assign: {
        type: "task.assign",
        task_id: task.task_id,
        attempt: n,
        tier: attempt.tier,
        prompt: attemptPrompt(task, attempt, recent, diffs),
        ...(task.cwd === undefined ? {} : { cwd: task.cwd }),
        ...(task.repo === undefined ? {} : { repo: task.repo }),
        ...(task.deliver === undefined ? {} : { deliver: task.deliver }),
        ...(task.acceptance === undefined ? {} : { acceptance: task.acceptance }),
        ...(task.isolation === undefined ? {} : { isolation: task.isolation }),
        // Every attempt starts from the commit the first one resolved (docs/work-isolation.md).
        ...(base === undefined ? {} : { base }),
        ...(task.name === undefined ? {} : { task_name: task.name }),
        ...(cap > 0 ? { max_cost_usd: cap } : {}),
        ...(resume === undefined ? {} : { resume }),
        // The CLI's TRACEPARENT names this attempt's span (docs/traces.md).
        ...(task.trace_id === undefined
          ? {}
          : { traceparent: formatTraceparent(task.trace_id, spanIdOf(task.trace_id, task.task_id, "attempt", n)) }),
      },
      ...(needsWorktree ? { needs: ["worktree" as const] } : {}),
      selector: task.agent_selector,
      ...(excluded.length === 0 ? {} : { exclude_agents: excluded }),
      requested_at: Date.now(),
      ...(task.priority === undefined ? {} : { priority: task.priority }),
      queue_timeout_s: task.queue_timeout_s ?? queueTimeoutS,
      // A person's retry goes back to the agent holding the session and worktree, when it is free (a lost agent is not
      // preferred).
      ...(resume !== undefined && attempt.role === "retry" ? { prefer_agent: resume.agent } : {}),
    };
    // Over the socket opened during the admission when it is there; over HTTP otherwise.
    if (socket !== undefined && (await socket.send(request))) return { ok: true, value: { sent: "socket" } };
    return sendToRegistry(this.parties, this.token(), request);
  }

  private async logged(what: string, call: Promise<Result<unknown>>): Promise<Result<unknown>> {
    const result = await call;
    if (!result.ok)
      console.error(`task ${this.taskId}: could not ${what}: ${result.error.code}: ${result.error.message}`);
    return result;
  }
}
