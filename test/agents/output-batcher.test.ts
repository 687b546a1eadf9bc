import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type LinesBatch,
  maxSerializedBytes,
  OutputBatcher,
  serializedBytes,
} from "../../agents/runtime/output-batcher.ts";
import { MAX_LINES_PER_BATCH, type OutputLine } from "../../protocol/index.ts";

const line = (text: string): OutputLine => ({ stream: "stdout", text, ts: 1 });

function batcherWithSink(options: { open?: boolean; maxRetainedLines?: number } = {}) {
  const sent: LinesBatch[] = [];
  const state = { open: options.open ?? true };
  const batcher = new OutputBatcher({
    sink: (batch) => {
      if (!state.open) return false;
      sent.push({ first_line: batch.first_line, lines: [...batch.lines] });
      return true;
    },
    now: () => 42,
    ...(options.maxRetainedLines === undefined ? {} : { maxRetainedLines: options.maxRetainedLines }),
  });
  return { batcher, sent, state };
}

const texts = (batches: LinesBatch[]): string[] => batches.flatMap((batch) => batch.lines.map((l) => l.text));

afterEach(() => {
  vi.useRealTimers();
});

describe("OutputBatcher", () => {
  it("sends lines on a timer as one batch, not one send per line", () => {
    vi.useFakeTimers();
    const { batcher, sent } = batcherWithSink();
    batcher.add(line("a"));
    batcher.add(line("b"));
    batcher.add(line("c"));
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(25);
    expect(sent).toEqual([{ first_line: 0, lines: [line("a"), line("b"), line("c")] }]);
    batcher.stop();
  });

  it("numbers lines from 0 and continues the numbering across batches", () => {
    vi.useFakeTimers();
    const { batcher, sent } = batcherWithSink();
    batcher.add(line("a"));
    vi.advanceTimersByTime(25);
    batcher.add(line("b"));
    batcher.add(line("c"));
    vi.advanceTimersByTime(25);
    expect(sent.map((batch) => batch.first_line)).toEqual([0, 1]);
    expect(batcher.lineCount).toBe(3);
    expect(batcher.allSent).toBe(true);
    batcher.stop();
  });

  it("never puts more than MAX_LINES_PER_BATCH lines in a batch", () => {
    const { batcher, sent, state } = batcherWithSink({ open: false });
    const total = MAX_LINES_PER_BATCH * 2 + 7;
    for (let i = 0; i < total; i++) batcher.add(line(String(i)));
    state.open = true;
    batcher.flush();
    expect(sent.map((batch) => batch.lines.length)).toEqual([MAX_LINES_PER_BATCH, MAX_LINES_PER_BATCH, 7]);
    expect(sent.map((batch) => batch.first_line)).toEqual([0, MAX_LINES_PER_BATCH, MAX_LINES_PER_BATCH * 2]);
    expect(texts(sent)).toEqual(Array.from({ length: total }, (_, i) => String(i)));
    batcher.stop();
  });

  it("sends a full batch at once without waiting for the timer", () => {
    vi.useFakeTimers();
    const { batcher, sent } = batcherWithSink();
    for (let i = 0; i < MAX_LINES_PER_BATCH; i++) batcher.add(line(String(i)));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.lines).toHaveLength(MAX_LINES_PER_BATCH);
    batcher.stop();
  });

  it("keeps batches under the frame budget when lines are long", () => {
    const sent: LinesBatch[] = [];
    const batcher = new OutputBatcher({
      sink: (batch) => {
        sent.push(batch);
        return true;
      },
      maxBatchBytes: 1100,
    });
    for (let i = 0; i < 10; i++) batcher.add(line("x".repeat(300)));
    batcher.flush();
    expect(sent.map((batch) => batch.lines.length)).toEqual([3, 3, 3, 1]);
    batcher.stop();
  });

  it("fills each batch to the byte budget exactly, lines of every kind mixed, never past it", () => {
    const sent: LinesBatch[] = [];
    const maxBatchBytes = 4000;
    const batcher = new OutputBatcher({
      sink: (batch) => {
        sent.push(batch);
        return true;
      },
      maxBatchBytes,
    });
    const kinds = ["short", "x".repeat(120), "\u0000\u0001".repeat(40), "漢字🎈".repeat(30), '"quoted"'.repeat(20)];
    for (let i = 0; i < 300; i++) batcher.add(line(kinds[i % kinds.length] as string));
    batcher.flush();
    const sizes = sent.map((batch) => batch.lines.reduce((sum, l) => sum + serializedBytes(l), 0));
    for (const [i, size] of sizes.entries()) {
      expect(size).toBeLessThanOrEqual(maxBatchBytes);
      // Full: the batch's first line after it would not have fitted.
      const next = sent[i + 1]?.lines[0];
      if (next !== undefined) expect(size + serializedBytes(next)).toBeGreaterThan(maxBatchBytes);
    }
    expect(texts(sent)).toHaveLength(300);
    batcher.stop();
  });

  it("holds lines while the sink refuses them and sends them when it takes them again", () => {
    const { batcher, sent, state } = batcherWithSink({ open: false });
    batcher.add(line("a"));
    batcher.add(line("b"));
    expect(batcher.flush()).toBe(false);
    state.open = true;
    expect(batcher.flush()).toBe(true);
    expect(sent).toEqual([{ first_line: 0, lines: [line("a"), line("b")] }]);
    batcher.stop();
  });

  it("resends from next_line after the room accepts a new connection", () => {
    const { batcher, sent } = batcherWithSink();
    for (const text of ["a", "b", "c", "d"]) batcher.add(line(text));
    batcher.flush();
    sent.length = 0;
    batcher.resendFrom(2);
    batcher.flush();
    expect(sent).toEqual([{ first_line: 2, lines: [line("c"), line("d")] }]);
    batcher.stop();
  });

  it("forgets acknowledged lines, and can still resend the rest", () => {
    const { batcher, sent } = batcherWithSink();
    for (const text of ["a", "b", "c", "d"]) batcher.add(line(text));
    batcher.flush();
    batcher.acknowledge(3);
    sent.length = 0;
    batcher.resendFrom(3);
    batcher.flush();
    expect(sent).toEqual([{ first_line: 3, lines: [line("d")] }]);
    expect(batcher.lineCount).toBe(4);
    batcher.stop();
  });

  it("drops the oldest lines past its bound and puts a note with the count where they were", () => {
    const { batcher, sent, state } = batcherWithSink({ open: false, maxRetainedLines: 5 });
    for (let i = 0; i < 8; i++) batcher.add(line(String(i)));
    state.open = true;
    batcher.flush();
    expect(sent).toEqual([
      {
        first_line: 0,
        lines: [
          { stream: "system", text: "[agent] 3 lines dropped (the agent's buffer was full)", ts: 42 },
          ...["3", "4", "5", "6", "7"].map(line),
        ],
      },
    ]);
    expect(batcher.droppedLines).toBe(3);
    expect(batcher.lineCount).toBe(6);
    batcher.stop();
  });

  it("reports only the lines the room missed when sent lines were dropped before their ack", () => {
    const { batcher, sent, state } = batcherWithSink({ maxRetainedLines: 5 });
    for (const text of ["0", "1", "2"]) batcher.add(line(text));
    batcher.flush();
    state.open = false;
    for (let i = 3; i < 10; i++) batcher.add(line(String(i)));
    sent.length = 0;
    state.open = true;
    // The room holds lines 0-1; 2-4 were dropped from the buffer.
    batcher.resendFrom(2);
    batcher.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.first_line).toBe(2);
    expect(sent[0]?.lines[0]?.text).toBe("[agent] 3 lines dropped (the agent's buffer was full)");
    expect(texts(sent).slice(1)).toEqual(["5", "6", "7", "8", "9"]);
    expect(batcher.lineCount).toBe(8);
    batcher.stop();
  });
});

describe("serializedBytes", () => {
  it("counts exactly what JSON.stringify writes, plus the separator, with or without characters to escape", () => {
    const lines: OutputLine[] = [
      { stream: "stdout", text: "plain text", ts: 1795318736401 },
      { stream: "stderr", text: "", ts: 0 },
      { stream: "system", text: "ünïcødé ✓ 漢字 🎈", ts: 42 },
      { stream: "stdout", text: 'quote " backslash \\ tab \t bell \u0007 nul \u0000', ts: 1 },
    ];
    for (const line of lines) expect(serializedBytes(line)).toBe(Buffer.byteLength(JSON.stringify(line)) + 1);
  });

  it("is never above its reading-free upper bound, even for text that is all escapes or four-byte characters", () => {
    const lines: OutputLine[] = [
      { stream: "stdout", text: "\u0000".repeat(100), ts: Number.MAX_SAFE_INTEGER },
      { stream: "stderr", text: "🎈".repeat(100), ts: -1.2345678901234567e308 },
      { stream: "system", text: "漢".repeat(100), ts: 1795318736401 },
      { stream: "stdout", text: "", ts: 0 },
    ];
    for (const line of lines) expect(maxSerializedBytes(line)).toBeGreaterThanOrEqual(serializedBytes(line));
  });
});
