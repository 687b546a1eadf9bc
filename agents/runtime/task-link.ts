import {
  type AttemptCap,
  type AttemptSessionArchive,
  CloseCode,
  type OutputLine,
  PartyName,
  PROTOCOL_VERSION,
  parseMessage,
  type TaskToAgent as TaskMessage,
  TaskToAgent,
} from "../../protocol/index.ts";
import type { AgentLog } from "./agent-log.ts";
import type { AttemptResult } from "./attempt-run-types.ts";
import {
  describeClose,
  type FrameData,
  type LinkFailure,
  type LinkMessage,
  type LinkTransport,
  type OpenTransport,
} from "./link-transport.ts";
import { MAX_BUFFERED_BYTES, openMeshSocket } from "./mesh-socket.ts";
import { OutputBatcher } from "./output-batcher.ts";

export interface TaskLinkOptions {
  server: URL;
  token: string;
  agent: string;
  taskId: string;
  attempt: number;
  /** The executor's program name, as `attempt.hello` reports it. */
  executor: string;
  /** The earlier attempt whose CLI session this one continues, as `attempt.hello` reports it. */
  resumedFrom?: number;
  log: AgentLog;
  /** The room cancelled the task. */
  onCancel: (reason: string) => void;
  /** The attempt is not (or no longer) ours, or the room cannot be reached: stop the child. */
  onLost: (reason: string) => void;
  /** The room acknowledged lines (the backlog shrank). */
  onAcknowledged?: () => void;
  /** How the link reaches the task room; a partysocket by default, an in-memory transport in tests. */
  openTransport?: OpenTransport;
}

export const TASK_MAX_RETRIES = 100;
/** After `attempt.exit` is sent, how long the room may take to confirm before the agent moves on. */
const CLOSED_WAIT_MS = 30_000;
/**
 * How long the room may stay silent while the link waits on it (its acceptance, or acks of sent lines) before the link
 * reconnects.
 */
const SILENT_ROOM_MS = 10_000;
/** Close codes after which the room will not take this attempt's link back. */
export const TASK_FINAL_CLOSE_CODES: readonly number[] = [
  CloseCode.notAssigned,
  CloseCode.notFound,
  CloseCode.forbidden,
  CloseCode.unsupportedVersion,
];

/**
 * One attempt's link to its task room, as a message sequence over a reconnecting transport. Every (re)open starts with
 * `attempt.hello`; lines flow only after `attempt.accepted`, from the line the room asks for; `attempt.exit` goes after
 * the last line.
 */
export class TaskLink {
  /** True once the room first accepts the attempt; false if it never does. */
  readonly accepted: Promise<boolean>;
  private readonly options: TaskLinkOptions;
  private readonly label: string;
  private readonly transport: LinkTransport;
  private readonly batcher: OutputBatcher;
  private resolveAccepted: (accepted: boolean) => void = () => {};
  private resolveFinished: () => void = () => {};
  private readonly finished: Promise<void>;
  /** The current connection's hello was accepted. */
  private acceptedNow = false;
  private exit: AttemptResult | undefined;
  /** The attempt's diff in pieces, sent before the exit on every connection that reports it. */
  private diff: readonly string[] = [];
  /**
   * The CLI's session in pieces (docs/sessions.md), sent like the diff: before the exit, on every connection that
   * reports it.
   */
  private sessionArchive: readonly AttemptSessionArchive[] = [];
  private exitSentNow = false;
  private exitTimer: ReturnType<typeof setTimeout> | undefined;
  private connected = false;
  private outage = false;
  private over = false;
  private sessionId: string | undefined;
  private grantedCap: AttemptCap | undefined;
  /** When the room last said anything on this connection, or it opened: the watchdog reads it. */
  private lastHeard = Date.now();
  private readonly watchdog: ReturnType<typeof setInterval>;

  constructor(options: TaskLinkOptions) {
    this.options = options;
    this.label = `task ${options.taskId} attempt ${options.attempt}`;
    this.accepted = new Promise((resolve) => (this.resolveAccepted = resolve));
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.batcher = new OutputBatcher({
      sink: (batch) => this.canSendLines() && this.send({ type: "log.batch", attempt: options.attempt, ...batch }),
    });
    this.transport = (options.openTransport ?? openMeshSocket)({
      server: options.server,
      token: options.token,
      party: PartyName.task,
      room: options.taskId,
      maxRetries: TASK_MAX_RETRIES,
      finalCloseCodes: TASK_FINAL_CLOSE_CODES,
    });
    this.transport.onopen = () => this.onOpen();
    this.transport.onmessage = (data) => this.onMessage(data);
    this.transport.onclose = (code, reason) => this.onClose(code, reason);
    this.transport.onerror = (failure) => this.onError(failure);
    this.transport.start();
    this.watchdog = setInterval(() => this.watch(), 1000);
  }

  /**
   * Never wait on nothing (docs/wire-protocol.md): an open connection whose room has not accepted the attempt, or
   * has not acknowledged lines sent to it, for SILENT_ROOM_MS is dropped and made again; the room asks
   * for the lines it lacks from `next_line` on the new one.
   */
  private watch(): void {
    const waiting = !this.acceptedNow || this.batcher.backlog > 0;
    if (!this.connected || !waiting || Date.now() - this.lastHeard <= SILENT_ROOM_MS) return;
    this.options.log(`${this.label}: no answer from the task room for ${SILENT_ROOM_MS / 1000} s; reconnecting`);
    this.lastHeard = Date.now();
    this.transport.reconnect(4000, "no answer from the task room");
  }

  /**
   * The cost cap the budget granted with the room's first acceptance (docs/costs.md); undefined from a
   * server that grants none. Later acceptances (after a reconnect) do not change a running attempt's cap.
   */
  get cap(): AttemptCap | undefined {
    return this.grantedCap;
  }

  /** Lines not yet acknowledged by the room. */
  get backlog(): number {
    return this.batcher.backlog;
  }

  /**
   * The CLI's session id, told to the room once it accepted the attempt (again after a reconnect): a retry after a loss
   * can resume it.
   */
  reportSession(sessionId: string): void {
    this.sessionId = sessionId;
    if (this.acceptedNow) this.send({ type: "attempt.session", attempt: this.options.attempt, session_id: sessionId });
  }

  addLine(line: OutputLine): void {
    if (!this.over) this.batcher.add(line);
  }

  /**
   * Reports the exit once every line is sent, after the pieces of the attempt's diff (docs/work-isolation.md), and
   * resolves when the room confirms (or the link gives up).
   */
  finish(
    result: AttemptResult,
    diff: readonly string[] = [],
    sessionArchive: readonly AttemptSessionArchive[] = [],
  ): Promise<void> {
    this.exit = result;
    this.diff = diff;
    this.sessionArchive = sessionArchive;
    this.trySendExit();
    return this.finished;
  }

  /** Ends the link now, without waiting for the room. */
  close(): void {
    this.end();
  }

  private onOpen(): void {
    this.lastHeard = Date.now();
    this.acceptedNow = false;
    this.exitSentNow = false;
    this.connected = true;
    if (this.outage) this.options.log(`${this.label}: task room reached again`);
    this.outage = false;
    const { agent, attempt, executor, resumedFrom } = this.options;
    this.send({
      type: "attempt.hello",
      protocol_version: PROTOCOL_VERSION,
      agent,
      attempt,
      executor,
      ...(resumedFrom === undefined ? {} : { resumed_from: resumedFrom }),
    });
  }

  private onMessage(data: FrameData): void {
    this.lastHeard = Date.now();
    const parsed = parseMessage(TaskToAgent, data);
    if (!parsed.ok) {
      this.options.log(
        `${this.label}: ignored a bad frame from the task room (${parsed.error.code}: ${parsed.error.message})`,
      );
      return;
    }
    const message = parsed.value;
    if (message.type !== "error" && message.attempt !== this.options.attempt) {
      this.options.log(`${this.label}: ignored ${message.type} for attempt ${message.attempt}`);
      return;
    }
    this.handle(message);
  }

  private handle(message: TaskMessage): void {
    switch (message.type) {
      case "attempt.accepted":
        this.acceptedNow = true;
        this.grantedCap ??= message.cap;
        this.resolveAccepted(true);
        if (this.sessionId !== undefined)
          this.send({ type: "attempt.session", attempt: this.options.attempt, session_id: this.sessionId });
        this.batcher.resendFrom(message.next_line);
        this.batcher.flush();
        this.trySendExit();
        return;
      case "log.ack":
        this.batcher.acknowledge(message.next_line);
        this.options.onAcknowledged?.();
        return;
      case "attempt.cancel":
        this.options.onCancel(message.reason);
        return;
      case "attempt.closed":
        this.options.log(`${this.label}: recorded by the task room as ${message.status}`);
        this.end();
        return;
      case "error":
        if (message.code === "not_assigned") {
          this.lose(`the task room says it is not ours (${message.message})`);
        } else if (message.in_reply_to === "attempt.exit" && message.code === "conflict") {
          // The exit was recorded on an earlier connection; the confirmation was lost with it.
          this.end();
        } else {
          this.options.log(`${this.label}: task room error ${message.code}: ${message.message}`);
        }
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    if (this.over) return;
    this.acceptedNow = false;
    const wasConnected = this.connected;
    this.connected = false;
    if (TASK_FINAL_CLOSE_CODES.includes(code)) {
      this.lose(`the task room closed the link (${describeClose(code, reason)})`);
    } else if (this.transport.retriesExhausted) {
      this.lose(`the task room could not be reached after ${TASK_MAX_RETRIES} tries`);
    } else if (wasConnected && !this.outage) {
      // A failed connect also closes; onError reports those.
      this.outage = true;
      this.options.log(`${this.label}: task link lost (${describeClose(code, reason)}); reconnecting`);
    }
  }

  private onError(failure: LinkFailure): void {
    if (this.over) return;
    // The upgrade was refused outright (wrong token, no such task): retrying cannot help.
    const reason = failure.refusal?.reason;
    if (reason === "unauthorized" || reason === "forbidden" || reason === "not_found") {
      this.lose(`the task room refused the link (${failure.message}, ${reason})`);
      return;
    }
    if (this.outage) return;
    this.outage = true;
    this.options.log(`${this.label}: task link failed (${failure.message}); reconnecting`);
  }

  private canSendLines(): boolean {
    return this.acceptedNow && this.transport.bufferedAmount < MAX_BUFFERED_BYTES;
  }

  private trySendExit(): void {
    if (this.exit === undefined || this.over || !this.acceptedNow || this.exitSentNow) return;
    if (!this.batcher.flush()) {
      // Lines are still waiting (the socket is backed up): the batcher retries them; try again after.
      setTimeout(() => this.trySendExit(), 25);
      return;
    }
    const line_count = this.batcher.lineCount;
    // The pieces go first on the same connection, so the room holds them all when the exit arrives.
    const attempt = this.options.attempt;
    if (!this.diff.every((text, index) => this.send({ type: "attempt.diff", attempt, index, text }))) return;
    if (!this.sessionArchive.every((piece) => this.send(piece))) return;
    const diffChunks = this.exit.isolation === "worktree" ? { diff_chunks: this.diff.length } : {};
    if (this.send({ type: "attempt.exit", attempt, line_count, ...this.exit, ...diffChunks })) {
      this.exitSentNow = true;
      if (this.exitTimer !== undefined) clearTimeout(this.exitTimer);
      this.exitTimer = setTimeout(() => {
        this.options.log(
          `${this.label}: the task room did not confirm the exit within ${CLOSED_WAIT_MS / 1000}s; moving on`,
        );
        this.end();
      }, CLOSED_WAIT_MS);
    }
  }

  private send(message: LinkMessage): boolean {
    return this.transport.send(message);
  }

  private lose(reason: string): void {
    if (this.over) return;
    this.options.log(`${this.label}: ${reason}`);
    this.options.onLost(reason);
    this.end();
  }

  private end(): void {
    if (this.over) return;
    this.over = true;
    clearInterval(this.watchdog);
    if (this.exitTimer !== undefined) clearTimeout(this.exitTimer);
    this.batcher.stop();
    this.resolveAccepted(false);
    this.resolveFinished();
    this.transport.close(1000, "attempt over");
  }
}
