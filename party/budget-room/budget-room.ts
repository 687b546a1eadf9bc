import type * as Party from "partykit/server";
import { z } from "zod";
import {
  AttemptCountersRecord,
  BudgetCommand,
  BudgetDayRecord,
  BudgetMonthRecord,
  type BudgetToDashboard,
  type FrameError,
  LearnedCostsRecord,
  PartyName,
  ReservationRecord,
  StageRecord,
  type TaskRecord,
} from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { scopeSeesMesh } from "../auth/viewer-link.ts";
import { errorResponse, json } from "../http/responses.ts";
import { FLOOD_LIMITS } from "../limits/flood-guard.ts";
import { type Channel, MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import {
  ATTEMPT_COUNTERS_KEY,
  budgetMetrics,
  countSettled,
  emptyAttemptCounters,
} from "../metrics/attempt-counters.ts";
import { announce } from "../notification-outbox/announce.ts";
import { answerPeerClose } from "../peer-close.ts";
import { askRoom, sendToTask } from "../room-peers.ts";
import { listStored, readStored } from "../stored-records.ts";
import {
  type BudgetLimits,
  type BudgetState,
  budgetStatus,
  emptyBudget,
  expireReservations,
  haltNotices,
  release,
  renewReservations,
  reserve,
  rollWindows,
  settle,
  start,
  utcDate,
  utcMonth,
} from "./budget-book.ts";
import { budgetNotices } from "./budget-notices.ts";
import { budgetLimitsFrom, positiveSetting } from "./budget-settings.ts";

const RESERVATIONS_KEY = "budget:reservations";
/**
 * The real costs estimates are learned from (learned-estimates.ts): kept here, never a scan of the ledger per request.
 */
const LEARNED_KEY = "budget:learned";
const dayKey = (date: string): string => `budget:day:${date}`;
const monthKey = (month: string): string => `budget:month:${month}`;
/** Ledger entries sort by when they ended. */
/** Marks an attempt settled, so a second report of its end (a late exit after a cancel) is not counted twice. */
const settledKey = (taskId: string, attempt: number): string => `settled:${taskId}:${attempt}`;
const stageKey = (entry: StageRecord): string =>
  `stage:${String(entry.ended_at).padStart(14, "0")}:${entry.task_id}:${entry.attempt}`;

/**
 * The global budget actor (one room, id "main"): the cost circuit breaker. Every attempt reserves its
 * estimate here before it is dispatched and settles at its real cost when it ends; the room's
 * single-threaded turns make check-and-reserve atomic, so concurrent dispatches cannot bypass the
 * halt. Totals per UTC day and month and the stage ledger live in storage.
 */
export default class BudgetRoom extends MeshRoom<BudgetCommand, never, BudgetToDashboard> {
  static override readonly sockets: SocketPolicy = {
    open: true,
    admits: (caller) => caller.role === "orchestrator" || (caller.role === "viewer" && scopeSeesMesh(caller.scope)),
  };
  protected readonly commands = BudgetCommand;
  private state: BudgetState = emptyBudget(Date.now());
  /**
   * Ended attempts by tier and class, and their cost by tier, since the budget began: `GET /metrics` (docs/metrics.md).
   */
  private counters = emptyAttemptCounters();

  async onStart(): Promise<void> {
    const now = Date.now();
    const [day, month, reservations, learned, counters] = await Promise.all([
      this.stored(dayKey(utcDate(now)), BudgetDayRecord),
      this.stored(monthKey(utcMonth(now)), BudgetMonthRecord),
      this.stored(RESERVATIONS_KEY, z.record(z.string(), ReservationRecord)),
      this.stored(LEARNED_KEY, LearnedCostsRecord),
      this.stored(ATTEMPT_COUNTERS_KEY, AttemptCountersRecord),
    ]);
    // Absent or unreadable counters start from zero (Prometheus reads that as a counter reset).
    this.counters = counters ?? emptyAttemptCounters();
    const fresh = emptyBudget(now);
    this.state = {
      day: day ?? fresh.day,
      month: month ?? fresh.month,
      reservations: reservations ?? {},
      learned: learned ?? {},
    };
  }

  onConnect(connection: Party.Connection): void {
    answerPeerClose(connection);
    this.send(connection, this.snapshot());
  }

  /** The socket takes no messages: every frame is refused. */
  protected override channelOf(): Channel<never> {
    return { schema: z.never(), perSecond: FLOOD_LIMITS.viewer };
  }

  /** A frame that is not JSON (or too large) says so as any socket would; any other is an unknown type. */
  protected override frameRefusal(error: FrameError): FrameError {
    return error.code !== "bad_message"
      ? { code: error.code, message: error.message }
      : { code: "unknown_type", message: "the budget socket only sends budget.snapshot; it takes no messages" };
  }

  protected override async onRead(url: URL): Promise<Response> {
    const now = Date.now();
    // A scrape reads memory only: it never waits on the reservations' check below.
    if (url.searchParams.get("view") === "metrics")
      return json(budgetMetrics(this.counters, rollWindows(this.state, now).day.spent_usd));
    await this.expireStale(now);
    if (url.searchParams.get("view") === "stages") return json({ stages: await this.stages(url) });
    return json(budgetStatus(this.state, now, this.limits()));
  }

  protected async onCommand(command: BudgetCommand): Promise<Response> {
    const now = Date.now();
    await this.expireStale(now);
    // Each branch computes the new state before its first await: the room's turns keep it atomic.
    if (command.type === "budget.reserve") {
      const outcome = reserve(this.state, command, now, this.limits());
      await this.commit(outcome.state);
      return outcome.refused === null
        ? json(budgetStatus(this.state, now, this.limits()))
        : errorResponse(outcome.refused.code, outcome.refused.message);
    }
    if (command.type === "budget.start") {
      // An attempt that already settled (cancelled while its start was asked) is not started again.
      if ((await this.room.storage.get(settledKey(command.task_id, command.attempt))) !== undefined)
        return errorResponse("conflict", `attempt ${command.attempt} of task ${command.task_id} has already ended`);
      const outcome = start(this.state, command, Date.now(), this.limits());
      await this.commit(outcome.state);
      return outcome.outcome.ok
        ? json(outcome.outcome.value)
        : errorResponse(outcome.outcome.error.code, outcome.outcome.error.message);
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
    if (outcome.alertRaised)
      console.warn(
        `budget: monthly spend ${outcome.state.month.spent_usd.toFixed(2)} USD reached the alert of ${this.limits().monthlyAlertUsd} USD`,
      );
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
    const token = stale.length === 0 ? null : this.token();
    // Without the token no task room can be asked: every reservation is kept (a room without its secrets refuses all
    // requests anyway).
    if (token === null) return;
    const live = await Promise.all(
      stale.map(async (r) => {
        const answer = await askRoom<TaskRecord>(this.room.context.parties, PartyName.task, r.task_id, token, "/");
        // A room that cannot answer now keeps the reservation: spending headroom is safer than losing it.
        if (!answer.ok) return answer.error.code !== "not_found";
        const status = answer.value.attempts?.find((a) => a.n === r.attempt)?.status;
        return status === "dispatched" || status === "running";
      }),
    );
    const renewed = renewReservations(
      this.state,
      stale.filter((_, i) => live[i] === true),
      now,
    );
    await this.commit(expireReservations(renewed, now, ttlMs));
  }

  /**
   * A stored record, parsed: a corrupt one is logged and read as absent (a fresh record replaces it; docs/rooms.md
   * "Stored records").
   */
  private async stored<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const read = await readStored(this.room.storage, "budget", key, schema);
    return read.ok ? read.value : undefined;
  }

  private async commit(next: BudgetState, entry?: StageRecord): Promise<void> {
    const previous = this.state;
    this.state = next;
    if (previous === next && entry === undefined) return;
    const writes: Record<string, unknown> = {
      [RESERVATIONS_KEY]: next.reservations,
      [dayKey(next.day.date)]: next.day,
      [monthKey(next.month.month)]: next.month,
    };
    if (next.learned !== previous.learned) writes[LEARNED_KEY] = next.learned;
    if (entry !== undefined) {
      writes[stageKey(entry)] = entry;
      writes[settledKey(entry.task_id, entry.attempt)] = entry.ended_at;
    }
    await this.room.storage.put(writes);
    this.broadcast(this.snapshot());
    this.tellHalted(previous, next);
    // Not awaited: the outbox stores and delivers (docs/notifications.md).
    void announce(this.room.context.parties, this.room.env, budgetNotices(previous, next, this.limits(), Date.now()));
  }

  /**
   * The breaker halted: task rooms holding a reservation that has not started fail it and give it
   * back. Not awaited, and a lost notice costs nothing: the start gate refuses those attempts anyway.
   */
  private tellHalted(previous: BudgetState, next: BudgetState): void {
    const notices = haltNotices(previous, next, Date.now(), this.limits());
    const token = notices.length === 0 ? null : this.token();
    if (token === null) return;
    for (const notice of notices) {
      void sendToTask(this.room.context.parties, token, notice.task_id, {
        type: "budget.halted",
        attempt: notice.attempt,
        message: notice.message,
      }).then((sent) => {
        if (!sent.ok && sent.error.code !== "conflict")
          console.error(`budget: could not tell task ${notice.task_id} the breaker halted: ${sent.error.message}`);
      });
    }
  }

  /**
   * The orchestrator token other rooms are called with; null (logged) when the server lacks its secrets: never an empty
   * token.
   */
  private token(): string | null {
    const secrets = readSecrets(this.room.env);
    if (!("code" in secrets)) return secrets.orchestratorToken;
    console.error(`budget: cannot call other rooms: ${secrets.message}`);
    return null;
  }

  private async stages(url: URL): Promise<StageRecord[]> {
    const since = Number(url.searchParams.get("since") ?? "0") || 0;
    const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get("limit") ?? "1000") || 1000));
    // A corrupt ledger entry (logged) is left out of the page: one bad entry hides nothing else.
    const page = await listStored(
      this.room.storage,
      "budget",
      { prefix: "stage:", start: `stage:${String(since).padStart(14, "0")}`, limit },
      StageRecord,
    );
    return [...page.records.values()];
  }

  private reservationTtlMs(): number {
    return positiveSetting(this.room.env.MESH_RESERVATION_TTL_S, 6 * 3600) * 1000;
  }

  private limits(): BudgetLimits {
    return budgetLimitsFrom(this.room.env);
  }

  private snapshot(): BudgetToDashboard {
    const now = Date.now();
    this.state = rollWindows(this.state, now);
    return { type: "budget.snapshot", status: budgetStatus(this.state, now, this.limits()) };
  }
}

BudgetRoom satisfies Party.Worker;
