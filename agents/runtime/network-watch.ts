import { FAIL_FAST, matchSignature, RETRY_LINE } from "./cli-signatures.ts";

/** How long a CLI may print nothing but retries before it is stopped as `network_error` (executors file `stall_s`). */
export const DEFAULT_STALL_S = 120;

/**
 * Watches a run's raw output lines for the network (docs/cli-formats.md): a fail-fast signature (codex's
 * "Reconnecting... waiting for network", after which it waits for ever) stops it at once; a run whose
 * only lines for `stallMs` are retries is stopped too. Any other line is progress and resets the clock.
 */
export class NetworkWatch {
  private lastProgressAt = Date.now();
  private retrying = false;
  private stopped = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly program: string,
    private readonly stallMs: number,
    private readonly stop: (note: string) => void,
  ) {
    this.timer = setInterval(() => this.check(Date.now()), Math.min(1000, Math.max(50, stallMs / 4)));
    this.timer.unref();
  }

  watch(line: string, now = Date.now()): void {
    if (this.stopped) return;
    const fatal = matchSignature(FAIL_FAST, line);
    if (fatal !== undefined)
      return this.end(
        `${this.program} is waiting for the network (${fatal.line}); stopped at once: ${fatal.signature.advice}`,
      );
    if (RETRY_LINE.test(line)) this.retrying = true;
    else if (line.trim() !== "") {
      this.retrying = false;
      this.lastProgressAt = now;
    }
  }

  check(now: number): void {
    if (this.stopped || !this.retrying || now - this.lastProgressAt < this.stallMs) return;
    this.end(
      `${this.program} printed only reconnect and retry lines for ${Math.round(this.stallMs / 1000)} s (stall_s); stopped: the agent's machine cannot reach the CLI's service, fix its network or proxy`,
    );
  }

  /** Stops watching; with a note, the run is stopped with it. */
  end(note?: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    if (note !== undefined) this.stop(note);
  }
}
