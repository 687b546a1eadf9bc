import { MAX_FRAME_BYTES, MAX_LINES_PER_BATCH, type OutputLine } from "../../protocol/index.ts";

/** Consecutive lines of one attempt: `first_line` numbers the first, from 0 per attempt. */
export type LinesBatch = { first_line: number; lines: OutputLine[] };

/** Sends one batch; returns false when it cannot now (socket down, not yet accepted, backed up). */
export type BatchSink = (batch: LinesBatch) => boolean;

export interface OutputBatcherOptions {
  sink: BatchSink;
  /** How long lines may wait before a partial batch goes out. */
  flushIntervalMs?: number;
  /** Most lines kept for a resend; beyond it the oldest are dropped. */
  maxRetainedLines?: number;
  /** Bytes of serialized lines per batch, below the room's frame limit. */
  maxBatchBytes?: number;
  /** Stamps the "lines dropped" note. */
  now?: () => number;
}

/** Characters JSON escapes: only lines holding one need a real serialisation to be measured. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/**
 * Bytes a line takes in a batch's JSON, with its separating comma. Runs once per line sent, so
 * the common case (nothing to escape) is counted without serialising: `{"stream":"…","text":"…","ts":…}`
 * is 29 bytes of punctuation and keys around the three values.
 */
export function serializedBytes(line: OutputLine): number {
  if (NEEDS_ESCAPE.test(line.text)) return Buffer.byteLength(JSON.stringify(line)) + 1;
  return 29 + line.stream.length + Buffer.byteLength(line.text) + String(line.ts).length + 1;
}

/**
 * An upper bound of `serializedBytes` that reads no character: each UTF-16 unit takes at most 6 bytes
 * of JSON (`\u001f`; UTF-8 needs at most 3), and a number at most 24 characters.
 */
export function maxSerializedBytes(line: OutputLine): number {
  return 29 + line.stream.length + 6 * line.text.length + 24 + 1;
}

export const DEFAULT_FLUSH_INTERVAL_MS = 25;
// Above the session's backpressure mark plus one pipe chunk of short lines, so a live child never loses lines.
export const DEFAULT_MAX_RETAINED_LINES = 100_000;
// Room for the envelope ({"type":"log.batch",...}) around the lines.
const DEFAULT_MAX_BATCH_BYTES = MAX_FRAME_BYTES - 4096;

/**
 * Numbers an attempt's output lines and sends them in batches on a timer. Lines stay here until the
 * task room acknowledges them, so after a reconnect the room can ask for them again from `next_line`.
 * Lines are numbered by position: `retained[head]` is line `base`. Lines are kept as they came (no
 * wrapper object per line) and measured only when a batch is cut, as most are sent exactly once.
 */
export class OutputBatcher {
  private readonly sink: BatchSink;
  private readonly flushIntervalMs: number;
  private readonly maxRetainedLines: number;
  private readonly maxBatchBytes: number;
  private readonly now: () => number;
  private retained: OutputLine[] = [];
  private head = 0;
  private base = 0;
  /** The next line to send. Below `base` means lines the room never got were dropped. */
  private cursor = 0;
  private lost = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(options: OutputBatcherOptions) {
    this.sink = options.sink;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxRetainedLines = options.maxRetainedLines ?? DEFAULT_MAX_RETAINED_LINES;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.now = options.now ?? Date.now;
  }

  /** Lines numbered so far: the `line_count` of the attempt's exit. */
  get lineCount(): number {
    return this.base + this.retained.length - this.head;
  }

  /** Lines the room will never see because the buffer overflowed while they were unsent. */
  get droppedLines(): number {
    return this.lost;
  }

  /** Lines kept but not yet acknowledged by the room: what backpressure watches. */
  get backlog(): number {
    return this.retained.length - this.head;
  }

  get allSent(): boolean {
    return this.cursor >= this.lineCount;
  }

  add(line: OutputLine): void {
    this.retained.push(line);
    if (this.retained.length - this.head > this.maxRetainedLines) this.dropOldest(1);
    // A full batch goes at once; a partial one waits for the timer, so a chatty child is not one frame per line.
    if (this.lineCount - this.cursor >= MAX_LINES_PER_BATCH) this.flush();
    else this.schedule();
  }

  /** The room holds every line below `nextLine` (a new connection was accepted): continue from there. */
  resendFrom(nextLine: number): void {
    const next = Math.min(Math.max(nextLine, 0), this.lineCount);
    if (next >= this.base) this.acknowledge(next);
    this.cursor = next;
  }

  /** The room stored every line below `nextLine`: they need not be kept. */
  acknowledge(nextLine: number): void {
    const next = Math.min(nextLine, this.lineCount);
    if (next > this.base) this.dropOldest(next - this.base);
    if (this.cursor < next) this.cursor = next;
  }

  /** Sends every unsent line the sink takes now. Returns whether all were sent. */
  flush(): boolean {
    if (this.stopped) return false;
    while (!this.allSent) {
      if (this.cursor < this.base) this.noteGap();
      const batch = this.nextBatch();
      if (!this.sink(batch)) {
        this.schedule();
        return false;
      }
      this.cursor += batch.lines.length;
    }
    return true;
  }

  /** No more sends (the attempt is over or not ours). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.flushIntervalMs);
  }

  /**
   * The next batch from `cursor`: as many lines as fit `maxBatchBytes`. Lines are counted by their
   * upper bound while that proves the batch fits (short lines: no line is scanned), and measured
   * exactly only from the line where it no longer does; the batch is the same either way.
   */
  private nextBatch(): LinesBatch {
    const lines: OutputLine[] = [];
    let bound = 0;
    let exact: number | undefined;
    let index = this.head + (this.cursor - this.base);
    while (index < this.retained.length && lines.length < MAX_LINES_PER_BATCH) {
      const line = this.retained[index] as OutputLine;
      if (exact === undefined) {
        const lineBound = maxSerializedBytes(line);
        if (bound + lineBound <= this.maxBatchBytes) {
          lines.push(line);
          bound += lineBound;
          index++;
          continue;
        }
        exact = 0;
        for (const taken of lines) exact += serializedBytes(taken);
      }
      const lineBytes = serializedBytes(line);
      if (lines.length > 0 && exact + lineBytes > this.maxBatchBytes) break;
      lines.push(line);
      exact += lineBytes;
      index++;
    }
    return { first_line: this.cursor, lines };
  }

  /**
   * Lines from `cursor` to `base` were dropped before the room got them: a note takes their place
   * and later lines are renumbered after it, so the room's numbering has no hole.
   */
  private noteGap(): void {
    const missing = this.base - this.cursor;
    this.lost += missing;
    const note: OutputLine = {
      stream: "system",
      text: `[agent] ${missing} lines dropped (the agent's buffer was full)`,
      ts: this.now(),
    };
    if (this.head > 0) this.retained[--this.head] = note;
    else this.retained.unshift(note);
    this.base = this.cursor;
  }

  private dropOldest(count: number): void {
    this.head += count;
    this.base += count;
    // Compact now and then instead of shifting the array on every drop.
    if (this.head >= 4096 && this.head * 2 >= this.retained.length) {
      this.retained = this.retained.slice(this.head);
      this.head = 0;
    }
  }
}
