import { afterEach, describe, expect, it, vi } from "vitest";
import type { AttemptResult } from "../../agents/runtime/attempt-run-types.ts";
import { MAX_BUFFERED_BYTES } from "../../agents/runtime/mesh-socket.ts";
import { TASK_FINAL_CLOSE_CODES, TASK_MAX_RETRIES, TaskLink } from "../../agents/runtime/task-link.ts";
import { CloseCode, type OutputLine, PROTOCOL_VERSION } from "../../protocol/index.ts";
import { memoryTransports } from "./memory-transport.ts";

const ATTEMPT = 2;
const line = (text: string): OutputLine => ({ stream: "stdout", text, ts: 1 });
const accepted = (next_line = 0) => ({ type: "attempt.accepted", attempt: ATTEMPT, next_line });
const result: AttemptResult = { exit_code: 0, signal: null, duration_ms: 12 };

function linkWithMemory() {
  const transports = memoryTransports();
  const logs: string[] = [];
  const cancels: string[] = [];
  const losses: string[] = [];
  let acknowledged = 0;
  const link = new TaskLink({
    server: new URL("http://mesh.test:1999"),
    token: "agent-token",
    agent: "vm-1",
    taskId: "01TASK",
    attempt: ATTEMPT,
    executor: "claude",
    log: (text) => logs.push(text),
    onCancel: (reason) => cancels.push(reason),
    onLost: (reason) => losses.push(reason),
    onAcknowledged: () => acknowledged++,
    openTransport: transports.open,
  });
  return { link, transport: transports.last(), logs, cancels, losses, acknowledgedCount: () => acknowledged };
}

/** Every line text sent in log.batch frames, in order, with its number. */
const sentLines = (batches: Array<{ first_line: number; lines: OutputLine[] }>): string[] =>
  batches.flatMap((batch) => batch.lines.map((l, i) => `${batch.first_line + i}:${l.text}`));

afterEach(() => {
  vi.useRealTimers();
});

describe("TaskLink", () => {
  it("connects to its task's room and says attempt.hello on every open", () => {
    const { link, transport } = linkWithMemory();
    expect(transport.spec).toMatchObject({ party: "task", room: "01TASK", maxRetries: TASK_MAX_RETRIES });
    expect(transport.spec.finalCloseCodes).toEqual(TASK_FINAL_CLOSE_CODES);
    transport.open();
    transport.drop(1006);
    transport.open();
    expect(transport.sent).toEqual([
      {
        type: "attempt.hello",
        protocol_version: PROTOCOL_VERSION,
        agent: "vm-1",
        attempt: ATTEMPT,
        executor: "claude",
      },
      {
        type: "attempt.hello",
        protocol_version: PROTOCOL_VERSION,
        agent: "vm-1",
        attempt: ATTEMPT,
        executor: "claude",
      },
    ]);
    link.close();
  });

  it("tells the room the CLI's session id once it accepted the attempt, and again after a reconnect", () => {
    const { link, transport } = linkWithMemory();
    transport.open();
    link.reportSession("sess-7");
    expect(transport.sent.filter((m) => m.type === "attempt.session")).toEqual([]);
    transport.receive(accepted());
    transport.drop(1006);
    transport.open();
    transport.receive(accepted());
    expect(transport.sent.filter((m) => m.type === "attempt.session")).toEqual([
      { type: "attempt.session", attempt: ATTEMPT, session_id: "sess-7" },
      { type: "attempt.session", attempt: ATTEMPT, session_id: "sess-7" },
    ]);
    link.close();
  });

  it("resolves accepted on the first attempt.accepted, and false if the link ends first", async () => {
    const first = linkWithMemory();
    first.transport.open();
    first.transport.receive(accepted());
    await expect(first.link.accepted).resolves.toBe(true);
    first.link.close();
    const second = linkWithMemory();
    second.link.close();
    await expect(second.link.accepted).resolves.toBe(false);
  });

  it("holds lines until the room accepts, then sends them in one batch", () => {
    vi.useFakeTimers();
    const { link, transport } = linkWithMemory();
    transport.open();
    link.addLine(line("a"));
    link.addLine(line("b"));
    vi.advanceTimersByTime(100);
    expect(transport.sentOf("log.batch")).toEqual([]);
    transport.receive(accepted());
    expect(transport.sentOf("log.batch")).toEqual([
      { type: "log.batch", attempt: ATTEMPT, first_line: 0, lines: [line("a"), line("b")] },
    ]);
    link.close();
  });

  it("resends unacknowledged lines after a reconnect, from the line the room asks for", () => {
    vi.useFakeTimers();
    const { link, transport } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    for (const text of ["a", "b", "c"]) link.addLine(line(text));
    vi.advanceTimersByTime(25);
    transport.receive({ type: "log.ack", attempt: ATTEMPT, next_line: 1 });
    expect(link.backlog).toBe(2);
    transport.drop(1006);
    link.addLine(line("d"));
    vi.advanceTimersByTime(100);
    transport.open();
    transport.receive(accepted(2));
    expect(sentLines(transport.sentOf("log.batch"))).toEqual(["0:a", "1:b", "2:c", "2:c", "3:d"]);
    link.close();
  });

  it("counts acknowledgements for backpressure", () => {
    vi.useFakeTimers();
    const { link, transport, acknowledgedCount } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    link.addLine(line("a"));
    vi.advanceTimersByTime(25);
    transport.receive({ type: "log.ack", attempt: ATTEMPT, next_line: 1 });
    expect(link.backlog).toBe(0);
    expect(acknowledgedCount()).toBe(1);
    link.close();
  });

  it("holds lines while the socket is backed up and sends them once it drains", () => {
    vi.useFakeTimers();
    const { link, transport } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    transport.bufferedAmount = MAX_BUFFERED_BYTES;
    link.addLine(line("a"));
    vi.advanceTimersByTime(100);
    expect(transport.sentOf("log.batch")).toEqual([]);
    transport.bufferedAmount = 0;
    vi.advanceTimersByTime(25);
    expect(sentLines(transport.sentOf("log.batch"))).toEqual(["0:a"]);
    link.close();
  });

  it("sends the exit after the last line and finishes when the room confirms it", async () => {
    vi.useFakeTimers();
    const { link, transport, logs } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    link.addLine(line("a"));
    const finished = link.finish(result);
    expect(transport.sent.map((message) => message.type)).toEqual(["attempt.hello", "log.batch", "attempt.exit"]);
    expect(transport.sentOf("attempt.exit")).toEqual([
      { type: "attempt.exit", attempt: ATTEMPT, line_count: 1, ...result },
    ]);
    transport.receive({ type: "attempt.closed", attempt: ATTEMPT, status: "succeeded" });
    await finished;
    expect(logs).toContain("task 01TASK attempt 2: recorded by the task room as succeeded");
    expect(transport.closedWith).toEqual({ code: 1000, reason: "attempt over" });
  });

  it("sends the exit again on a new connection when the confirmation never came", () => {
    const { link, transport } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    void link.finish(result);
    transport.drop(1006);
    transport.open();
    expect(transport.sentOf("attempt.exit")).toHaveLength(1);
    transport.receive(accepted(0));
    expect(transport.sentOf("attempt.exit")).toHaveLength(2);
    link.close();
  });

  it("ends when the room says the exit was already recorded on an earlier connection", async () => {
    const { link, transport } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    const finished = link.finish(result);
    transport.receive({ type: "error", code: "conflict", message: "already exited", in_reply_to: "attempt.exit" });
    await finished;
    expect(transport.closedWith).toBeDefined();
  });

  it("moves on when the room does not confirm the exit within 30 s", async () => {
    vi.useFakeTimers();
    const { link, transport, logs } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    const finished = link.finish(result);
    vi.advanceTimersByTime(30_000);
    await finished;
    expect(logs).toContain("task 01TASK attempt 2: the task room did not confirm the exit within 30s; moving on");
  });

  it("reconnects when the room leaves its hello or sent lines unanswered for 10 s, and not while nothing waits on it", () => {
    vi.useFakeTimers();
    const { link, transport, logs } = linkWithMemory();
    transport.open();
    vi.advanceTimersByTime(11_000);
    expect(transport.reconnects).toEqual([{ code: 4000, reason: "no answer from the task room" }]);
    transport.open();
    transport.receive(accepted(0));
    // Accepted, every line acknowledged: a quiet CLI is not a silent room.
    link.addLine(line("a"));
    vi.advanceTimersByTime(100);
    transport.receive({ type: "log.ack", attempt: ATTEMPT, next_line: 1 });
    vi.advanceTimersByTime(60_000);
    expect(transport.reconnects).toHaveLength(1);
    // A line the room never acknowledges: reconnect after 10 s of silence.
    link.addLine(line("b"));
    vi.advanceTimersByTime(11_000);
    expect(transport.reconnects).toHaveLength(2);
    expect(logs).toContain("task 01TASK attempt 2: no answer from the task room for 10 s; reconnecting");
    link.close();
  });

  it("passes a cancel on", () => {
    const { link, transport, cancels } = linkWithMemory();
    transport.open();
    transport.receive({ type: "attempt.cancel", attempt: ATTEMPT, reason: "cancelled by the orchestrator" });
    expect(cancels).toEqual(["cancelled by the orchestrator"]);
    link.close();
  });

  it("ignores messages about another attempt and bad frames", () => {
    const { link, transport, cancels, logs } = linkWithMemory();
    transport.open();
    transport.receive({ type: "attempt.cancel", attempt: ATTEMPT + 1, reason: "not ours" });
    transport.receive("[]");
    expect(cancels).toEqual([]);
    expect(logs).toHaveLength(2);
    link.close();
  });

  it.each(TASK_FINAL_CLOSE_CODES)("stops the child and does not retry after close code %i", (code) => {
    const { transport, losses } = linkWithMemory();
    transport.open();
    transport.drop(code, "no");
    expect(losses).toEqual([`the task room closed the link (code ${code}: no)`]);
    expect(transport.closedWith).toEqual({ code: 1000, reason: "attempt over" });
  });

  it("keeps reconnecting after a close that is not final", () => {
    const { link, transport, losses, logs } = linkWithMemory();
    transport.open();
    transport.drop(CloseCode.heartbeatTimeout);
    expect(losses).toEqual([]);
    expect(transport.closedWith).toBeUndefined();
    expect(logs).toEqual([`task 01TASK attempt 2: task link lost (code ${CloseCode.heartbeatTimeout}); reconnecting`]);
    link.close();
  });

  it.each([
    [401, "unauthorized"],
    [403, "forbidden"],
    [404, "not_found"],
  ])("gives up when the room refuses the upgrade with %i", (status, reason) => {
    const { transport, losses } = linkWithMemory();
    transport.refuse(status);
    expect(losses).toEqual([`the task room refused the link (Unexpected server response: ${status}, ${reason})`]);
    expect(transport.closedWith).toBeDefined();
  });

  it("retries a failed connect and a server error, and gives up once every retry is used", () => {
    const { transport, losses, logs } = linkWithMemory();
    transport.fail();
    transport.refuse(500);
    expect(losses).toEqual([]);
    expect(logs).toEqual(["task 01TASK attempt 2: task link failed (connect ECONNREFUSED); reconnecting"]);
    transport.retriesExhausted = true;
    transport.fail();
    expect(losses).toEqual([`the task room could not be reached after ${TASK_MAX_RETRIES} tries`]);
  });

  it("stops the child when the room says the attempt is not ours", () => {
    const { transport, losses } = linkWithMemory();
    transport.open();
    transport.receive({ type: "error", code: "not_assigned", message: "attempt 2 was given up" });
    expect(losses).toEqual(["the task room says it is not ours (attempt 2 was given up)"]);
  });

  it("takes no lines and sends nothing once over", () => {
    vi.useFakeTimers();
    const { link, transport } = linkWithMemory();
    transport.open();
    transport.receive(accepted());
    link.close();
    link.addLine(line("late"));
    vi.advanceTimersByTime(100);
    expect(transport.sentOf("log.batch")).toEqual([]);
  });
});
