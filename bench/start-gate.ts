// A starting gate for bench children: each waits on a shared FIFO until the bench opens the gate,
// so every stream (mesh and plain ws alike) starts at one measured instant, after its viewer is
// subscribed, and no line arrives as a replay. Costs one tiny `sh` per child, never a poll loop.
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINE_BYTES } from "./bench-plan.ts";

export class StartGate {
  readonly dir = mkdtempSync(join(tmpdir(), "mesh-bench-gate-"));
  private readonly fifo = join(this.dir, "go");
  /**
   * Held read-write from the start, so a child's open never blocks and a newline written early waits in the pipe for a
   * late child.
   */
  private readonly fd: number;

  constructor() {
    execFileSync("mkfifo", [this.fifo]);
    this.fd = openSync(this.fifo, "r+");
  }

  /** `program` run once the gate opens: `sh` reads one newline from the FIFO, then becomes the program. */
  command(program: readonly string[]): string[] {
    return ["/bin/sh", "-c", 'read go < "$0"; exec "$@"', this.fifo, ...program];
  }

  /** A file of `count` numbered lines of LINE_BYTES bytes each (the number first, 10 digits). */
  linesFile(count: number): string {
    const file = join(this.dir, `lines-${count}.txt`);
    const pad = "x".repeat(LINE_BYTES - 12);
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(`${String(i).padStart(10, "0")} ${pad}\n`);
    writeFileSync(file, parts.join(""));
    return file;
  }

  /**
   * Waits until `children` processes wait at this gate (their `sh` command line names the FIFO): a
   * running attempt is not yet a spawned child, and an agent may still be spawning when its room says running.
   */
  async childrenWaiting(children: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = this.waitingNow();
      if (waiting >= children) return;
      if (Date.now() > deadline)
        throw new Error(`only ${waiting} of ${children} children reached the start gate in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private waitingNow(): number {
    let count = 0;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(this.fifo)) count++;
      } catch {
        // the process ended meanwhile
      }
    }
    return count;
  }

  /** Lets `children` waiting (or yet to wait) children through; returns the instant, in performance.now(). */
  open(children: number): number {
    const at = performance.now();
    writeSync(this.fd, "\n".repeat(children));
    return at;
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The line number a numbered line starts with (see `linesFile`), or -1. */
export function lineNumber(text: string): number {
  const n = Number(text.slice(0, 10));
  return Number.isInteger(n) ? n : -1;
}
