import type PartySocket from "partysocket";
import { CloseCode, PROTOCOL_VERSION, TaskToAgent, parseMessage, type OutputLine, type TaskToAgent as TaskMessage } from "../../protocol/index.ts";
import type { AgentLog } from "./agent-log.ts";
import type { AttemptResult } from "./attempt-runner.ts";
import { MAX_BUFFERED_BYTES, describeClose, frameData, openMeshSocket, sendMessage } from "./mesh-socket.ts";
import { OutputBatcher } from "./output-batcher.ts";

export interface TaskLinkOptions {
  server: URL;
  token: string;
  agent: string;
  taskId: string;
  attempt: number;
  /** The executor's program name, as `attempt.hello` reports it. */
  executor: string;
  log: AgentLog;
  /** The room cancelled the task. */
  onCancel: (reason: string) => void;
  /** The attempt is not (or no longer) ours, or the room cannot be reached: stop the child. */
  onLost: (reason: string) => void;
  /** The room acknowledged lines (the backlog shrank). */
  onAcknowledged?: () => void;
}

const MAX_RETRIES = 100;
/** After `attempt.exit` is sent, how long the room may take to confirm before the agent moves on. */
const CLOSED_WAIT_MS = 30_000;
const FINAL_CLOSE_CODES = [CloseCode.notAssigned, CloseCode.notFound, CloseCode.forbidden, CloseCode.unsupportedVersion];

/**
 * One attempt's socket to its task room. Every (re)open starts with `attempt.hello`; lines flow only
 * after `attempt.accepted`, from the line the room asks for; `attempt.exit` goes after the last line.
 */
export class TaskLink {
  /** True once the room first accepts the attempt; false if it never does. */
  readonly accepted: Promise<boolean>;
  private readonly options: TaskLinkOptions;
  private readonly label: string;
  private readonly socket: PartySocket;
  private readonly batcher: OutputBatcher;
  private resolveAccepted: (accepted: boolean) => void = () => {};
  private resolveFinished: () => void = () => {};
  private readonly finished: Promise<void>;
  /** The current connection's hello was accepted. */
  private acceptedNow = false;
  private exit: AttemptResult | undefined;
  private exitSentNow = false;
  private exitTimer: ReturnType<typeof setTimeout> | undefined;
  private connected = false;
  private outage = false;
  private over = false;

  constructor(options: TaskLinkOptions) {
    this.options = options;
    this.label = `task ${options.taskId} attempt ${options.attempt}`;
    this.accepted = new Promise((resolve) => (this.resolveAccepted = resolve));
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.batcher = new OutputBatcher({ sink: (batch) => this.canSendLines() && this.send({ type: "log.batch", attempt: options.attempt, ...batch }) });
    this.socket = openMeshSocket({
      server: options.server,
      token: options.token,
      party: "task",
      room: options.taskId,
      maxRetries: MAX_RETRIES,
      finalCloseCodes: FINAL_CLOSE_CODES,
    });
    this.socket.addEventListener("open", () => this.onOpen());
    this.socket.addEventListener("message", (event) => this.onMessage(event));
    this.socket.addEventListener("close", (event) => this.onClose(event.code, event.reason));
    this.socket.addEventListener("error", (event) => this.onError(event.message));
  }

  /** Lines not yet acknowledged by the room. */
  get backlog(): number {
    return this.batcher.backlog;
  }

  addLine(line: OutputLine): void {
    if (!this.over) this.batcher.add(line);
  }

  /** Reports the exit once every line is sent, and resolves when the room confirms (or the link gives up). */
  finish(result: AttemptResult): Promise<void> {
    this.exit = result;
    this.trySendExit();
    return this.finished;
  }

  /** Ends the link now, without waiting for the room. */
  close(): void {
    this.end();
  }

  private onOpen(): void {
    this.acceptedNow = false;
    this.exitSentNow = false;
    this.connected = true;
    if (this.outage) this.options.log(`${this.label}: task room reached again`);
    this.outage = false;
    const { agent, attempt, executor } = this.options;
    this.send({ type: "attempt.hello", protocol_version: PROTOCOL_VERSION, agent, attempt, executor });
  }

  private onMessage(event: MessageEvent): void {
    const parsed = parseMessage(TaskToAgent, frameData(event));
    if (!parsed.ok) {
      this.options.log(`${this.label}: ignored a bad frame from the task room (${parsed.error.code}: ${parsed.error.message})`);
      return;
    }
    const message = parsed.message;
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
        this.resolveAccepted(true);
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
    if (FINAL_CLOSE_CODES.includes(code as (typeof FINAL_CLOSE_CODES)[number])) {
      this.lose(`the task room closed the link (${describeClose(code, reason)})`);
    } else if (this.socket.retryCount >= MAX_RETRIES) {
      this.lose(`the task room could not be reached after ${MAX_RETRIES} tries`);
    } else if (wasConnected && !this.outage) {
      // A failed connect also closes; onError reports those.
      this.outage = true;
      this.options.log(`${this.label}: task link lost (${describeClose(code, reason)}); reconnecting`);
    }
  }

  private onError(message: string): void {
    if (this.over) return;
    // The upgrade was refused outright (wrong token, no such task): retrying cannot help.
    if (/\b40[134]\b/.test(message)) {
      this.lose(`the task room refused the link (${message})`);
      return;
    }
    if (this.outage) return;
    this.outage = true;
    this.options.log(`${this.label}: task link failed (${message}); reconnecting`);
  }

  private canSendLines(): boolean {
    return this.acceptedNow && this.socket.bufferedAmount < MAX_BUFFERED_BYTES;
  }

  private trySendExit(): void {
    if (this.exit === undefined || this.over || !this.acceptedNow || this.exitSentNow) return;
    if (!this.batcher.flush()) {
      // Lines are still waiting (the socket is backed up): the batcher retries them; try again after.
      setTimeout(() => this.trySendExit(), 25);
      return;
    }
    const line_count = this.batcher.lineCount;
    if (this.send({ type: "attempt.exit", attempt: this.options.attempt, line_count, ...this.exit })) {
      this.exitSentNow = true;
      if (this.exitTimer !== undefined) clearTimeout(this.exitTimer);
      this.exitTimer = setTimeout(() => {
        this.options.log(`${this.label}: the task room did not confirm the exit within ${CLOSED_WAIT_MS / 1000}s; moving on`);
        this.end();
      }, CLOSED_WAIT_MS);
    }
  }

  private send(message: Parameters<typeof sendMessage>[1]): boolean {
    return sendMessage(this.socket, message);
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
    if (this.exitTimer !== undefined) clearTimeout(this.exitTimer);
    this.batcher.stop();
    this.resolveAccepted(false);
    this.resolveFinished();
    this.socket.close(1000, "attempt over");
  }
}
