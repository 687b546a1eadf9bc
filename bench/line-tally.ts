import { percentile } from "./bench-stats.ts";
import { lineNumber } from "./start-gate.ts";

/**
 * Counts one stream's numbered lines at its viewer: every line is checked off by its number, so a
 * line that never came and a line that came twice are both seen, not just a total.
 */
export class LineTally {
  private readonly seen: Uint8Array;
  unique = 0;
  duplicated = 0;
  /** Lines whose number is outside 0..expected-1 (garbled or foreign). */
  stray = 0;
  /** performance.now() of the first and the last new line. */
  firstAt = 0;
  lastAt = 0;
  private readonly whenComplete: Promise<void>;
  private complete: () => void = () => {};

  constructor(readonly expected: number) {
    this.seen = new Uint8Array(expected);
    this.whenComplete = new Promise((resolve) => (this.complete = resolve));
    if (expected === 0) this.complete();
  }

  add(text: string, at: number): void {
    const n = lineNumber(text);
    if (n < 0 || n >= this.expected) {
      this.stray++;
      return;
    }
    if (this.seen[n] === 1) {
      this.duplicated++;
      return;
    }
    this.seen[n] = 1;
    if (this.unique === 0) this.firstAt = at;
    this.lastAt = at;
    this.unique++;
    if (this.unique === this.expected) this.complete();
  }

  get lost(): number {
    return this.expected - this.unique;
  }

  get done(): Promise<void> {
    return this.whenComplete;
  }
}

const DUPLICATE_GRACE_MS = 300;

export type StreamsResult = {
  linesPerSecond: number;
  seconds: number;
  received: number;
  lost: number;
  duplicated: number;
  /** When streams' first and last lines arrived, in ms after the gate opened: median and slowest. */
  spread: { firstP50: number; firstMax: number; lastP50: number; lastMax: number };
};

/**
 * Waits until every stream is complete, or until no line has arrived for `stallMs` (the rest count
 * as lost), and reports lines/s from the gate's opening to the last line at any viewer.
 */
export async function streamsOutcome(
  tallies: readonly LineTally[],
  openedAt: number,
  stallMs: number,
): Promise<StreamsResult> {
  const all = Promise.all(tallies.map((t) => t.done));
  let lastProgress = -1;
  let lastChangeAt = performance.now();
  for (;;) {
    const finished = await Promise.race([
      all.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 250)),
    ]);
    if (finished) {
      // A line repeated after the last new one would otherwise go unseen.
      await new Promise((resolve) => setTimeout(resolve, DUPLICATE_GRACE_MS));
      break;
    }
    const progress = tallies.reduce((sum, t) => sum + t.unique + t.duplicated, 0);
    if (progress !== lastProgress) {
      lastProgress = progress;
      lastChangeAt = performance.now();
    } else if (performance.now() - lastChangeAt > stallMs) break;
  }
  const lastAt = Math.max(...tallies.map((t) => t.lastAt));
  const received = tallies.reduce((sum, t) => sum + t.unique, 0);
  const seconds = (lastAt - openedAt) / 1000;
  return {
    linesPerSecond: seconds > 0 ? received / seconds : 0,
    seconds,
    received,
    lost: tallies.reduce((sum, t) => sum + t.lost, 0),
    duplicated: tallies.reduce((sum, t) => sum + t.duplicated, 0),
    spread: {
      firstP50: percentile(
        tallies.map((t) => t.firstAt - openedAt),
        50,
      ),
      firstMax: Math.max(...tallies.map((t) => t.firstAt - openedAt)),
      lastP50: percentile(
        tallies.map((t) => t.lastAt - openedAt),
        50,
      ),
      lastMax: lastAt - openedAt,
    },
  };
}

/** One progress line for stderr: how the streams' arrivals spread after the gate opened. */
export function spreadNote(label: string, result: StreamsResult): string {
  const { firstP50, firstMax, lastP50, lastMax } = result.spread;
  const ms = (n: number): string => `${Math.round(n)} ms`;
  return `bench:   ${label}: ${Math.round(result.linesPerSecond)} lines/s; first line after the gate p50 ${ms(firstP50)}, max ${ms(firstMax)}; last line p50 ${ms(lastP50)}, max ${ms(lastMax)}`;
}
