import type * as Party from "partykit/server";
import { z } from "zod";
import { BudgetCommand, BudgetDayRecord, BudgetMonthRecord, LearnedCostsRecord, PartyName, ReservationRecord, parseMessage, type BudgetToDashboard, type TaskRecord, type StageRecord } from "../../protocol/index.ts";
import { gateRequest, gateSocket } from "../auth/room-gate.ts";
import { scopeSeesMesh } from "../auth/viewer-link.ts";
import { readJsonBody } from "../http/read-body.ts";
import { errorResponse, json } from "../http/responses.ts";
import { budgetLimitsFrom, positiveSetting } from "./budget-settings.ts";
import { askRoom, sendToTask } from "../room-peers.ts";
import { readSecrets } from "../auth/credentials.ts";
import { budgetStatus, renewReservations, emptyBudget, expireReservations, haltNotices, release, reserve, rollWindows, settle, start, utcDate, utcMonth, type BudgetLimits, type BudgetState } from "./budget-book.ts";
import { answerPeerClose } from "../peer-close.ts";
import { announce } from "../notification-outbox/announce.ts";
import { budgetNotices } from "./budget-notices.ts";
import { ATTEMPT_COUNTERS_KEY, budgetMetrics, countSettled, emptyAttemptCounters, storedAttemptCounters } from "../metrics/attempt-counters.ts";

const RESERVATIONS_KEY = "budget:reservations";
/** The real costs estimates are learned from (learned-estimates.ts): kept here, never a scan of the ledger per request. */
const LEARNED_KEY = "budget:learned";
const dayKey = (date: string): string => `budget:day:${date}`;
const monthKey = (month: string): string => `budget:month:${month}`;
/** Ledger entries sort by when they ended. */
/** Marks an attempt settled, so a second report of its end (a late exit after a cancel) is not counted twice. */
const settledKey = (taskId: string, attempt: number): string => `settled:${taskId}:${attempt}`;
const stageKey = (entry: StageRecord): string => `stage:${String(entry.ended_at).padStart(14, "0")}:${entry.task_id}:${entry.attempt}`;


/**
 * The global budget actor (one room, id "main"): the cost circuit breaker. Every attempt reserves its
 * estimate here before it is dispatched and settles at its real cost when it ends; the room's
 * single-threaded turns make check-and-reserve atomic, so concurrent dispatches cannot bypass the
 * halt. Totals per UTC day and month and the stage ledger live in storage.
 */
export default class BudgetRoom implements Party.Server {
  readonly options = { hibernate: false };
  private state: BudgetState = emptyBudget(Date.now());
  /** Ended attempts by tier and class, and their cost by tier, since the budget began: `GET /metrics` (docs/metrics.md). */
  private counters = emptyAttemptCounters();

  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby): Promise<Party.Request | Response> {
    return gateSocket(request, lobby, (caller) => caller.role === "orchestrator" || (caller.role === "viewer" && scopeSeesMesh(caller.scope)));
  }

  async onStart(): Promise<void> {
    const now = Date.now();
    const [day, month, reservations, learned, counters] = await Promise.all([
      this.stored(dayKey(utcDate(now)), BudgetDayRecord),
      this.stored(monthKey(utcMonth(now)), BudgetMonthRecord),
      this.stored(RESERVATIONS_KEY, z.record(z.string(), ReservationRecord)),
      this.stored(LEARNED_KEY, LearnedCostsRecord),
      this.room.storage.get(ATTEMPT_COUNTERS_KEY),
    ]);
    this.counters = storedAttemptCounters(counters);
    const fresh = emptyBudget(now);
    this.state = { day: day ?? fresh.day, month: month ?? fresh.month, reservations: reservations ?? {}, learned: learned ?? {} };
  }

  onConnect(connection: Party.Connection): void {
    answerPeerClose(connection);
    connection.send(this.snapshot());
  }

  onMessage(raw: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): void {
    // The socket takes no messages: a frame that is not JSON (or too large, or binary) says so as any socket would; any other is an unknown type.
    const parsed = parseMessage(z.never(), raw);
    const error = !parsed.ok && parsed.error.code !== "bad_message" ? parsed.error : { code: "unknown_type" as const, message: "the budget socket only sends budget.snapshot; it takes no messages" };
    connection.send(JSON.stringify({ type: "error", code: error.code, message: error.message }));
  }

  async onRequest(request: Party.Request): Promise<Response> {
    const refused = await gateRequest(request, this.room.env);
    if (refused !== null) return refused;
    const now = Date.now();
    // A scrape reads memory only: it never waits on the reservations' check below.
    if (request.method === "GET" && new URL(request.url).searchParams.get("view") === "metrics") return json(budgetMetrics(this.counters, rollWindows(this.state, now).day.spent_usd));
    await this.expireStale(now);
    if (request.method === "GET") {
      const url = new URL(request.url);
      if (url.searchParams.get("view") === "stages") return json({ stages: await this.stages(url) });
      return json(budgetStatus(this.state, now, this.limits()));
    }
    if (request.method !== "POST") return errorResponse("not_found", `${request.method} is not served here`);
    const body = await readJsonBody(request as unknown as Request, BudgetCommand);
    if (!body.ok) return errorResponse(body.error.code, body.error.message);
    const command = body.value;
    // Each branch computes the new state before its first await: the room's turns keep it atomic.
    if (command.type === "budget.reserve") {
      const outcome = reserve(this.state, command, now, this.limits());
      await this.commit(outcome.state);
      return outcome.refused === null ? json(budgetStatus(this.state, now, this.limits())) : errorResponse(outcome.refused.code, outcome.refused.message);
    }
    if (command.type === "budget.start") {
      // An attempt that already settled (cancelled while its start was asked) is not started again.
      if ((await this.room.storage.get(settledKey(command.task_id, command.attempt))) !== undefined) return errorResponse("conflict", `attempt ${command.attempt} of task ${command.task_id} has already ended`);
      const outcome = start(this.state, command, Date.now(), this.limits());
      await this.commit(outcome.state);
      return outcome.outcome.ok ? json(outcome.outcome.value) : errorResponse(outcome.outcome.error.code, outcome.outcome.error.message);
    }
    if (command.type === "budget.release") {
      await this.commit(release(this.state, command.task_id, command.attempt));
      return json(budgetStatus(this.state, now, this.limits()));
    }
    if ((await this.room.storage.get(settledKey(command.stage.task_id, command.stage.attempt))) !== undefined) {
      return json(budgetStatus(this.state, Date.now(), this.limits()));
    }
    const outcome = settle(this.state, command.stage, Date.now(), this.limits());
    // Issued with the settle's own write just below: the two are stored together, so an attempt is counted once.
    this.counters = countSettled(this.counters, command.stage);
    void this.room.storage.put(ATTEMPT_COUNTERS_KEY, this.counters);
    await this.commit(outcome.state, outcome.entry);
    if (outcome.alertRaised) console.warn(`budget: monthly spend ${outcome.state.month.spent_usd.toFixed(2)} USD reached the alert of ${this.limits().monthlyAlertUsd} USD`);
    return json(budgetStatus(this.state, now, this.limits()));
  }

  /**
   * Reservations older than the TTL are dropped only when their attempt is over: a queued task's
   * reservation never lapses while it waits (docs/budget.md). The task room is asked (its record says
   * whether the attempt still waits or runs); a live one is renewed. The TTL only catches attempts
   * nobody tracks any more (a task room that has no such attempt, or none at all).
   */
  private async expireStale(now: number): Promise<void> {
    const ttlMs = this.reservationTtlMs();
    const stale = Object.values(this.state.reservations).filter((r) => now - r.reserved_at > ttlMs);
    if (stale.length === 0) return;
    const token = this.token();
    const live = await Promise.all(stale.map(async (r) => {
      const answer = await askRoom<TaskRecord>(this.room.context.parties, PartyName.task, r.task_id, token, "/");
      // A room that cannot answer now keeps the reservation: spending headroom is safer than losing it.
      if (!answer.ok) return answer.error.code !== "not_found";
      const status = answer.value.attempts?.find((a) => a.n === r.attempt)?.status;
      return status === "dispatched" || status === "running";
    }));
    const renewed = renewReservations(this.state, stale.filter((_, i) => live[i] === true), now);
    await this.commit(expireReservations(renewed, now, ttlMs));
  }

  /** A stored record, parsed: one that does not parse is logged and read as absent (a fresh record replaces it). */
  private async stored<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const raw = await this.room.storage.get(key);
    if (raw === undefined) return undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) console.error(`budget: stored ${key} does not parse (${parsed.error.issues[0]?.message ?? "invalid"}); starting it afresh`);
    return parsed.success ? parsed.data : undefined;
  }

  private async commit(next: BudgetState, entry?: StageRecord): Promise<void> {
    const previous = this.state;
    this.state = next;
    if (previous === next && entry === undefined) return;
    const writes: Record<string, unknown> = { [RESERVATIONS_KEY]: next.reservations, [dayKey(next.day.date)]: next.day, [monthKey(next.month.month)]: next.month };
    if (next.learned !== previous.learned) writes[LEARNED_KEY] = next.learned;
    if (entry !== undefined) {
      writes[stageKey(entry)] = entry;
      writes[settledKey(entry.task_id, entry.attempt)] = entry.ended_at;
    }
    await this.room.storage.put(writes);
    const frame = this.snapshot();
    for (const connection of this.room.getConnections()) connection.send(frame);
    this.tellHalted(previous, next);
    // Not awaited: the outbox stores and delivers (docs/notifications.md).
    void announce(this.room.context.parties, this.room.env, budgetNotices(previous, next, this.limits(), Date.now()));
  }

  /**
   * The breaker halted: task rooms holding a reservation that has not started fail it and give it
   * back. Not awaited, and a lost notice costs nothing: the start gate refuses those attempts anyway.
   */
  private tellHalted(previous: BudgetState, next: BudgetState): void {
    const token = this.token();
    for (const notice of haltNotices(previous, next, Date.now(), this.limits())) {
      void sendToTask(this.room.context.parties, token, notice.task_id, { type: "budget.halted", attempt: notice.attempt, message: notice.message }).then((sent) => {
        if (!sent.ok && sent.error.code !== "conflict") console.error(`budget: could not tell task ${notice.task_id} the breaker halted: ${sent.error.message}`);
      });
    }
  }

  private token(): string {
    const secrets = readSecrets(this.room.env);
    return "code" in secrets ? "" : secrets.orchestratorToken;
  }

  private async stages(url: URL): Promise<StageRecord[]> {
    const since = Number(url.searchParams.get("since") ?? "0") || 0;
    const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? "1000") || 1000));
    const page = await this.room.storage.list<StageRecord>({ prefix: "stage:", start: `stage:${String(since).padStart(14, "0")}`, limit });
    return [...page.values()];
  }

  private reservationTtlMs(): number {
    return positiveSetting(this.room.env.MESH_RESERVATION_TTL_S, 6 * 3600) * 1000;
  }

  private limits(): BudgetLimits {
    return budgetLimitsFrom(this.room.env);
  }

  private snapshot(): string {
    const now = Date.now();
    this.state = rollWindows(this.state, now);
    return JSON.stringify({ type: "budget.snapshot", status: budgetStatus(this.state, now, this.limits()) } satisfies BudgetToDashboard);
  }
}

BudgetRoom satisfies Party.Worker;
