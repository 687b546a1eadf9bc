import type * as Party from "partykit/server";
import {
  AgentToTask,
  CloseCode,
  ExecutorTier,
  resolveExecutorTier,
  MAX_LOG_READ,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  TaskCommand,
  ViewerToTask,
  parseMessage,
  type Attempt,
  type AttemptExit,
  type AttemptHello,
  type AttemptLost,
  type TaskResolve,
  type ErrorBody,
  type LogBatch,
  type LogLine,
  type TaskRecord,
  type TaskSummary,
  type TaskToAgent,
  type TaskToViewer,
} from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { gateRequest, gateSocket, roleOf, type SocketRole } from "../auth/room-gate.ts";
import { scopeAllowsTask } from "../auth/viewer-link.ts";
import { readJsonBody } from "../http/read-body.ts";
import { errorResponse, json } from "../http/responses.ts";
import { sendToBudget, sendToDirectory, sendToRegistry, servedTiers } from "../room-peers.ts";
import { LogStore } from "./log-store.ts";
import { attemptOf, cancelTask, finishAttempt, isOpenAttempt, loseAttempt, lostAgents, newTask, startAttempt } from "./task-state.ts";
import { attemptPrompt } from "./attempt-context.ts";
import { planNext, resolveTask, startingTier, type EscalationConfig, type Plan } from "./escalation.ts";
import { ViewerFeed } from "./viewer-feed.ts";
import { AttemptHolders } from "./attempt-holders.ts";

const TASK_KEY = "task";
/** Lines of each attempt already stored, written with each batch: how duplicates are recognised. */
const ATTEMPT_LINES_KEY = "attempt-lines";

/** New lines wake a long-poll reader after at most this long, so a chatty task reaches it in steps. */
const LINES_WAKE_MS = 100;

/**
 * One room per task (room id = the task's ULID): holds the task's state machine, its attempts and
 * its output log, takes the output of the agent that runs it, and feeds viewers live.
 */
export default class TaskRoom implements Party.Server {
  readonly options = { hibernate: false };

  private task: TaskRecord | null = null;
  private log: LogStore | null = null;
  private feed: ViewerFeed | null = null;
  private holders = new AttemptHolders({});
  /** Bumped on every change of the task (in memory): long-poll readers compare it. */
  private revision = 0;
  private readonly changeWaiters = new Set<() => void>();
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly roles = new Map<string, SocketRole>();
  /** Whether this instance has re-asked for the attempts it found waiting at start. */
  private dispatchesResumed = false;

  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby): Promise<Party.Request | Response> {
    return gateSocket(request, lobby, (caller) => caller.role !== "viewer" || scopeAllowsTask(caller.scope, lobby.id));
  }

  async onStart(): Promise<void> {
    this.task = (await this.room.storage.get<TaskRecord>(TASK_KEY)) ?? null;
    this.holders = AttemptHolders.fromStored(await this.room.storage.get(ATTEMPT_LINES_KEY));
    this.log = await LogStore.load(this.room.storage);
    this.feed = new ViewerFeed(this.log);
  }

  onConnect(connection: Party.Connection, context: Party.ConnectionContext): void {
    const role = roleOf(context);
    if (role === null || this.task === null) {
      send(connection, { type: "error", code: "not_found", message: `no task ${this.room.id}; check the id` });
      connection.close(CloseCode.notFound, "no such task");
      return;
    }
    this.roles.set(connection.id, role);
    if (role !== "agent") send(connection, { type: "task.snapshot", task: this.task });
  }

  onClose(connection: Party.Connection): void {
    this.roles.delete(connection.id);
    this.feed?.drop(connection.id);
    this.holders.dropConnection(connection.id);
  }

  async onMessage(raw: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
    const role = this.roles.get(connection.id);
    if (role === undefined) return;
    if (role === "agent") {
      const parsed = parseMessage(AgentToTask, raw);
      if (!parsed.ok) return send(connection, { type: "error", ...parsed.error, ...(parsed.type ? { in_reply_to: parsed.type } : {}) });
      const message = parsed.message;
      if (message.type === "attempt.hello") return this.onAttemptHello(message, connection);
      if (message.type === "log.batch") return this.onLogBatch(message, connection);
      return this.onAttemptExit(message, connection);
    }
    const parsed = parseMessage(ViewerToTask, raw);
    if (!parsed.ok) return send(connection, { type: "error", ...parsed.error, ...(parsed.type ? { in_reply_to: parsed.type } : {}) });
    await this.feed?.subscribe(connection, parsed.message.since_seq);
  }

  async onRequest(request: Party.Request): Promise<Response> {
    const refused = await gateRequest(request, this.room.env);
    if (refused !== null) return refused;
    await this.resumeDispatches();
    if (request.method === "GET") {
      if (this.task === null || this.log === null) return errorResponse("not_found", `no task ${this.room.id}`);
      const url = new URL(request.url);
      const view = url.searchParams.get("view");
      if (view !== "logs" && view !== "changes") return json(this.task);
      const sinceSeq = Math.max(0, Number(url.searchParams.get("since_seq") ?? "0") || 0);
      const limit = Math.min(MAX_LOG_READ, Math.max(1, Number(url.searchParams.get("limit") ?? MAX_LOG_READ) || MAX_LOG_READ));
      if (view === "changes") await this.changeAfter(Number(url.searchParams.get("revision") ?? "-1"), sinceSeq, Number(url.searchParams.get("timeout_ms") ?? "0"));
      const lines = await this.log.read(sinceSeq, limit);
      return json(view === "logs" ? { lines } : { task: this.task, lines, revision: this.revision });
    }
    if (request.method !== "POST") return errorResponse("not_found", `${request.method} is not served here`);
    const body = await readJsonBody(request as unknown as Request, TaskCommand);
    if (!body.ok) return errorResponse(body.error.code, body.error.message);
    const command = body.body;
    if (command.type === "task.create") {
      if (this.task !== null) return errorResponse("conflict", `task ${this.room.id} already exists`);
      if (command.task_id !== this.room.id) return errorResponse("bad_request", "task_id: must equal the room id");
      this.dispatchesResumed = true;
      const now = Date.now();
      const start = startingTier(command.tier, await servedTiers(this.room.context.parties, this.token(), command.agent_selector));
      const fresh = newTask({ ...command, tier: start.tier }, now);
      const task: TaskRecord = start.skipped.length === 0 ? fresh : { ...fresh, skipped_tiers: start.skipped.map((tier) => ({ tier, reason: "no connected agent serves it", at: now })) };
      await this.commit(task, `queued at tier ${task.tier}${start.skipped.length > 0 ? ` (skipped ${start.skipped.join(", ")}: no agent serves them)` : ""}`);
      const dispatched = await this.dispatch(task, 1);
      if (dispatched !== null) return errorResponse(dispatched.code, dispatched.message);
      return json(task, 201);
    }
    if (this.task === null) return errorResponse("not_found", `no task ${this.room.id}`);
    if (command.type === "attempt.lost") return this.onAttemptLost(command);
    if (command.type === "task.resolve") return this.onResolve(command);
    const open = this.task.attempts.filter(isOpenAttempt);
    const cancelled = cancelTask(this.task, command.reason ?? "cancelled by the orchestrator", Date.now());
    if (!cancelled.ok) return errorResponse(cancelled.error.code, cancelled.error.message);
    await this.commit(cancelled.task, `cancelled: ${command.reason ?? "by the orchestrator"}`);
    for (const attempt of open) {
      const holder = this.holders.holderOf(attempt.n);
      const connection = holder === undefined ? undefined : this.room.getConnection(holder.connectionId);
      if (attempt.status === "running" && connection !== undefined) {
        // It settles at its real cost when its exit arrives.
        send(connection, { type: "attempt.cancel", attempt: attempt.n, reason: command.reason ?? "task cancelled" });
      } else {
        // It never reached an agent, or its agent is not connected now (its hello will be refused
        // and it stops the child without an exit): it ends here, at the cost known so far.
        const ended = attemptOf(cancelled.task, attempt.n);
        if (ended !== undefined) await this.settle(ended);
      }
    }
    if (open.some((a) => a.status === "dispatched")) {
      await sendToRegistry(this.room.context.parties, this.token(), { type: "dispatch.withdraw", task_id: this.room.id });
    }
    return json(cancelled.task);
  }

  /** The agent of an attempt is gone (the registry's watchdog, a release, or the agent's own report on stopping). */
  private async onAttemptLost(command: Omit<AttemptLost, "type">): Promise<Response> {
    if (this.task === null) return errorResponse("not_found", `no task ${this.room.id}`);
    const lost = loseAttempt(this.task, command.attempt, command.agent, command.reason, Date.now());
    if (!lost.ok) return errorResponse(lost.error.code, lost.error.message);
    const holder = this.holders.holderOf(command.attempt);
    if (holder !== undefined) {
      this.room.getConnection(holder.connectionId)?.close(CloseCode.notAssigned, "the mesh gave this attempt up");
      this.holders.release(command.attempt);
    }
    await this.commit(lost.task, `attempt ${command.attempt} lost: ${command.reason}${lost.retry ? `; retrying at tier ${lost.retry.tier} on another agent` : ""}`, command.attempt);
    const given = attemptOf(lost.task, command.attempt);
    if (given !== undefined) await this.settle(given);
    if (lost.retry !== undefined) await this.startNextAttempt(lost.task, lost.retry.n);
    return json(this.task);
  }

  private async onResolve(command: TaskResolve): Promise<Response> {
    if (this.task === null) return errorResponse("not_found", `no task ${this.room.id}`);
    const retryTier = command.executor === undefined ? null : resolveExecutorTier(command.executor);
    if (command.executor !== undefined && retryTier === null) return errorResponse("bad_request", `executor: '${command.executor}' is neither a tier nor a CLI name`);
    const resolved = resolveTask(this.task, command, retryTier, Date.now());
    if (!resolved.ok) return errorResponse(resolved.code, resolved.message);
    await this.apply(resolved.plan);
    return json(this.task);
  }

  /** Carries out an escalation plan: stores the task, then reserves and dispatches its new attempts. */
  private async apply(plan: Plan): Promise<void> {
    if (plan.kind === "none") return;
    await this.commit(plan.task, plan.note);
    if (plan.kind === "dispatch") for (const n of plan.attempts) await this.startNextAttempt(this.task ?? plan.task, n);
  }

  private escalationConfig(): EscalationConfig {
    const env = this.room.env;
    const listed = typeof env.MESH_CONSENSUS_TIERS === "string" ? env.MESH_CONSENSUS_TIERS.split(",").map((t) => t.trim()) : ["opus", "sonnet", "codex", "gemini-pro"];
    const consensusTiers = listed.flatMap((t) => {
      const tier = ExecutorTier.safeParse(t);
      return tier.success ? [tier.data] : [];
    });
    const size = Number(env.MESH_CONSENSUS_SIZE ?? 2);
    return { consensusTiers, consensusSize: Number.isInteger(size) && size > 0 ? size : 2 };
  }

  /**
   * After a restart, asks again for every attempt still waiting for an agent: the request may have
   * been lost between storing the attempt and reaching the registry. Reserving and dispatching are
   * both idempotent per attempt, so asking twice is harmless. Runs on the first request after start
   * (an alarm could not reach the other rooms).
   */
  private async resumeDispatches(): Promise<void> {
    if (this.dispatchesResumed || this.task === null) return;
    this.dispatchesResumed = true;
    for (const attempt of this.task.attempts.filter((a) => a.status === "dispatched")) await this.startNextAttempt(this.task, attempt.n);
  }

  /** Reserves a new attempt's estimate and dispatches it; a refused reservation fails the task with `budget_halted`. */
  private async startNextAttempt(task: TaskRecord, n: number): Promise<void> {
    const attempt = attemptOf(task, n);
    if (attempt === undefined) return;
    const reserved = await sendToBudget(this.room.context.parties, this.token(), { type: "budget.reserve", task_id: task.task_id, attempt: n, tier: attempt.tier });
    if (!reserved.ok) {
      const body = (await reserved.json().catch(() => ({}))) as { error?: { message?: string } };
      // Built from the task as it is now, not as it was before the await: other attempts may have moved meanwhile.
      const current = this.task;
      if (current === null || attemptOf(current, n)?.status !== "dispatched") return;
      const now = Date.now();
      const attempts = current.attempts.map((a) => (a.n === n ? { ...a, status: "cancelled" as const, failure_class: "cancelled" as const, ended_at: now } : a));
      const othersOpen = attempts.some(isOpenAttempt);
      const message = body.error?.message ?? "the budget refused the next attempt";
      const halted: TaskRecord = { ...current, attempts, ...(othersOpen ? {} : { status: "failed" as const, error: { code: "budget_halted" as const, message } }), updated_at: now };
      await this.commit(halted, `attempt ${n} not started: ${message}`, n);
      return;
    }
    const failed = await this.dispatch(task, n);
    if (failed !== null) console.error(`task ${task.task_id}: ${failed.message}`);
  }

  private async onAttemptHello(hello: AttemptHello, connection: Party.Connection): Promise<void> {
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(hello.protocol_version)) {
      send(connection, { type: "error", code: "unsupported_version", message: `protocol ${hello.protocol_version} is not supported; this mesh speaks ${PROTOCOL_VERSION}: upgrade the agent` });
      return connection.close(CloseCode.unsupportedVersion, "unsupported protocol version");
    }
    if (this.task === null) return;
    const started = startAttempt(this.task, hello, Date.now());
    if (!started.ok) {
      send(connection, { type: "error", ...started.error, in_reply_to: hello.type });
      return connection.close(CloseCode.notAssigned, "attempt not assigned");
    }
    const replaced = this.holders.hold(hello.attempt, { connectionId: connection.id, agent: hello.agent });
    if (replaced !== null) this.room.getConnection(replaced)?.close(CloseCode.replaced, "the agent reconnected");
    if (started.task !== this.task) {
      await this.commit(started.task, `attempt ${hello.attempt} started at tier ${attemptOf(started.task, hello.attempt)?.tier} on agent ${hello.agent} (${hello.executor})`, hello.attempt);
    }
    send(connection, { type: "attempt.accepted", attempt: hello.attempt, next_line: this.holders.linesOf(hello.attempt) });
  }

  private async onLogBatch(batch: LogBatch, connection: Party.Connection): Promise<void> {
    if (!this.holds(connection, batch.attempt) || this.log === null) {
      return send(connection, { type: "error", code: "not_assigned", message: `attempt ${batch.attempt} is not held by this connection; send attempt.hello first`, in_reply_to: batch.type });
    }
    const expected = this.holders.linesOf(batch.attempt);
    const fresh = batch.lines.slice(Math.max(0, expected - batch.first_line));
    const missing = Math.max(0, batch.first_line - expected);
    if (fresh.length > 0) {
      const lines: Omit<LogLine, "seq">[] = [];
      if (missing > 0) lines.push(systemLine(batch.attempt, `[mesh] ${missing} output lines of attempt ${batch.attempt} were lost before they reached the mesh`));
      for (const line of fresh) lines.push({ ...line, attempt: batch.attempt });
      const counts = this.holders.setLines(batch.attempt, batch.first_line + batch.lines.length);
      const appended = this.log.append(lines, { [ATTEMPT_LINES_KEY]: counts });
      this.feed?.publish(appended.lines);
      this.changed("lines");
      await appended.written;
    }
    send(connection, { type: "log.ack", attempt: batch.attempt, next_line: this.holders.linesOf(batch.attempt) });
  }

  private async onAttemptExit(exit: AttemptExit, connection: Party.Connection): Promise<void> {
    if (this.task === null || !this.holds(connection, exit.attempt)) {
      return send(connection, { type: "error", code: "not_assigned", message: `attempt ${exit.attempt} is not held by this connection`, in_reply_to: exit.type });
    }
    if (exit.failure_class === "agent_lost") {
      // A stopping agent gives its attempt up: the same loss the watchdog would find, with its one retry.
      const agent = this.holders.holderOf(exit.attempt)?.agent ?? "";
      const response = await this.onAttemptLost({ attempt: exit.attempt, agent, reason: exit.error?.message ?? `agent ${agent} stopped` });
      send(connection, { type: "attempt.closed", attempt: exit.attempt, status: response.ok ? "failed" : (attemptOf(this.task, exit.attempt)?.status ?? "failed") });
      return;
    }
    // Asked first, so the exit and the next step are computed together and stored in one change:
    // nobody sees a task "failed" that is about to climb the ladder.
    const served = await servedTiers(this.room.context.parties, this.token(), this.task.agent_selector);
    const holder = this.holders.holderOf(exit.attempt);
    if (this.task === null || holder === undefined || holder.connectionId !== connection.id) return;
    const finished = finishAttempt(this.task, holder.agent, exit, Date.now());
    if (!finished.ok) return send(connection, { type: "error", ...finished.error, in_reply_to: exit.type });
    const plan = planNext(finished.task, served, this.escalationConfig(), Date.now());
    const missing = exit.line_count - this.holders.linesOf(exit.attempt);
    const attempt = attemptOf(finished.task, exit.attempt);
    const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.exit_code ?? "none"}`;
    const note = `attempt ${exit.attempt} ${how} after ${(exit.duration_ms / 1000).toFixed(1)}s: ${attempt?.status}${attempt?.failure_class ? ` (${attempt.failure_class})` : ""}${missing > 0 ? `; ${missing} output lines never arrived` : ""}`;
    await this.commit(plan.kind === "none" ? finished.task : plan.task, plan.kind === "none" ? note : `${note}; ${plan.note}`, exit.attempt);
    send(connection, { type: "attempt.closed", attempt: exit.attempt, status: attempt?.status ?? "failed" });
    this.holders.release(exit.attempt);
    if (attempt !== undefined) await this.settle(attempt);
    if (plan.kind === "dispatch") for (const n of plan.attempts) await this.startNextAttempt(this.task ?? plan.task, n);
  }

  /**
   * Wakes the long-poll readers: at once for a change of the task, within 100 ms for new lines, so
   * lines arriving in a stream reach a waiting tool in a few larger steps instead of one per batch.
   */
  private changed(what: "task" | "lines"): void {
    if (what === "lines") {
      this.wakeTimer ??= setTimeout(() => this.wakeWaiters(), LINES_WAKE_MS);
      return;
    }
    this.revision++;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    for (const wake of this.changeWaiters) wake();
    this.changeWaiters.clear();
  }

  /**
   * Long poll for MCP tools that wait on a task: returns at once if the task changed since
   * `revision`; within 100 ms if lines from `sinceSeq` on are there already; else at the next change
   * or after `timeoutMs` (at most 25 s, below the platform's idle limits). No timer polls storage.
   */
  private async changeAfter(revision: number, sinceSeq: number, timeoutMs: number): Promise<void> {
    if (revision !== this.revision) return;
    const linesWaiting = (this.log?.nextSeq ?? 0) > sinceSeq;
    const limit = Math.min(Math.max(0, timeoutMs), linesWaiting ? LINES_WAKE_MS : 25_000);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, limit);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.changeWaiters.add(done);
    });
  }

  private holds(connection: Party.Connection, attempt: number): boolean {
    return this.holders.holds(connection.id, attempt);
  }

  /** Stores a new task state, notes it in the log, shows it to viewers and updates the directory. */
  private async commit(task: TaskRecord, note: string, attempt = task.attempts.length): Promise<void> {
    const previous = this.task;
    this.task = task;
    const appended = this.log?.append([systemLine(attempt, `[mesh] ${note}`)], { [TASK_KEY]: task });
    if (appended) this.feed?.publish(appended.lines);
    this.changed("task");
    const snapshot = JSON.stringify({ type: "task.snapshot", task } satisfies TaskToViewer);
    for (const [id, role] of this.roles) if (role !== "agent") this.room.getConnection(id)?.send(snapshot);
    await appended?.written;
    if (previous?.status !== task.status) await this.index(task);
  }

  /** Tells the budget what an ended attempt really cost: its reservation is replaced and it joins the stage ledger. */
  private async settle(attempt: Attempt): Promise<void> {
    const response = await sendToBudget(this.room.context.parties, this.token(), {
      type: "budget.settle",
      stage: {
        task_id: this.room.id,
        attempt: attempt.n,
        tier: attempt.tier,
        agent: attempt.agent,
        ...(attempt.model === undefined ? {} : { model: attempt.model }),
        tokens: attempt.tokens,
        cost_usd: attempt.cost_usd,
        latency_ms: attempt.latency_ms,
        outcome: attempt.status,
        ...(attempt.failure_class === undefined ? {} : { failure_class: attempt.failure_class }),
      },
    });
    if (!response.ok) console.error(`task ${this.room.id}: the budget refused to settle attempt ${attempt.n} (${response.status}): ${await response.text()}`);
  }

  private async index(task: TaskRecord): Promise<void> {
    const summary: TaskSummary = {
      task_id: task.task_id,
      ...(task.name === undefined ? {} : { name: task.name }),
      status: task.status,
      tier: task.tier,
      instruction: task.instruction.slice(0, 200),
      created_at: task.created_at,
      updated_at: task.updated_at,
    };
    const response = await sendToDirectory(this.room.context.parties, this.token(), { type: "task.indexed", summary });
    if (!response.ok) console.error(`task ${task.task_id}: directory refused the summary (${response.status})`);
  }

  private async dispatch(task: TaskRecord, attempt: number): Promise<ErrorBody | null> {
    const target = attemptOf(task, attempt);
    if (target === undefined) return { code: "internal", message: `task ${task.task_id} has no attempt ${attempt}` };
    const recent = this.log === null || attempt === 1 ? [] : await this.log.read(Math.max(0, this.log.nextSeq - 2000), 2000);
    const response = await sendToRegistry(this.room.context.parties, this.token(), {
      type: "dispatch.request",
      task_id: task.task_id,
      attempt,
      tier: target.tier,
      prompt: attemptPrompt(task, target, recent),
      ...(task.cwd === undefined ? {} : { cwd: task.cwd }),
      selector: task.agent_selector,
      ...(lostAgents(task).length === 0 ? {} : { exclude_agents: lostAgents(task) }),
      ...(task.acceptance === undefined ? {} : { acceptance: task.acceptance }),
      requested_at: Date.now(),
    });
    return response.ok ? null : { code: "internal", message: `the agent registry refused the dispatch (${response.status}): ${await response.text()}` };
  }

  private token(): string {
    const secrets = readSecrets(this.room.env);
    return "code" in secrets ? "" : secrets.orchestratorToken;
  }
}

function systemLine(attempt: number, text: string): Omit<LogLine, "seq"> {
  return { stream: "system", text: text.slice(0, 4096), ts: Date.now(), attempt };
}

function send(connection: Party.Connection, message: TaskToAgent | TaskToViewer): void {
  connection.send(JSON.stringify(message));
}

TaskRoom satisfies Party.Worker;
