// Finds the processes that carry an attempt cookie (attempt-cookie.ts) and kills them: the children
// that left their process group (`setsid`, a detached spawn, a daemon's double fork), which a group
// kill misses (docs/containment.md). On Linux each process's environment is read from
// /proc/<pid>/environ: the environment it was started with, exactly, and readable for the agent's
// own user's processes (all of them as root). Elsewhere (macOS) `ps -E` prints the environment after
// the command line, for the same processes. A process that cleared its environment is not found.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { COOKIE_VARIABLE } from "./attempt-cookie.ts";

/** Cookies of the processes that carry one, by pid (the agent itself left out). */
export type CookieCarriers = Map<number, string>;

/** Which cookies a sweep kills. */
export type CookieMatch = (cookie: string) => boolean;

/**
 * A sweep kills, scans again and kills what it finds, until a scan finds nothing: a carrier that
 * forked between the scan and its kill is found the next round. Killed processes are zombies or
 * gone by then, and a zombie's environment reads empty. The bound only matters against a process
 * that forks faster than it can be killed.
 */
const MAX_ROUNDS = 20;
/**
 * After a sweep killed something, a scan that finds nothing is trusted only when a second one, this
 * long after, agrees: a process caught in the middle of `execve` (a carrier's fresh child becoming
 * `setsid`, then `sleep`) reads an empty environment for that moment, and would otherwise be missed
 * by the last round (seen in CI). A sweep that found nothing at all pays no pause (every attempt's end).
 */
const SETTLE_MS = 30;
/** Environments read at once (each an open file). */
const READ_BATCH = 64;

const PROC = "/proc";
const hasProcEnviron = (): boolean => existsSync(`${PROC}/self/environ`);

/** Kills every process whose cookie matches, until none is left; the pids killed. */
export async function sweepCookieCarriers(matches: CookieMatch): Promise<number[]> {
  const sweep = new Sweep(matches);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (sweep.killFound(await scanCookieCarriers())) continue;
    if (sweep.killed().length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    if (!sweep.killFound(await scanCookieCarriers())) break;
  }
  return sweep.killed();
}

/** The same, synchronously: at an agent's start, before anything runs, and in its exit hook. */
export function sweepCookieCarriersNow(matches: CookieMatch): number[] {
  const sweep = new Sweep(matches);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (sweep.killFound(scanCookieCarriersNow())) continue;
    if (sweep.killed().length === 0) break;
    // A synchronous pause: this runs where the event loop cannot (at start, in the exit hook).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS);
    if (!sweep.killFound(scanCookieCarriersNow())) break;
  }
  return sweep.killed();
}

export async function scanCookieCarriers(): Promise<CookieCarriers> {
  if (!hasProcEnviron()) return parsePsEnvironment(await psEnvironment());
  const carriers: CookieCarriers = new Map();
  const pids = processIds(await readdir(PROC).catch(() => []));
  for (let start = 0; start < pids.length; start += READ_BATCH) {
    await Promise.all(
      pids.slice(start, start + READ_BATCH).map(async (pid) => {
        // ENOENT (it ended) or EACCES (another user's): not ours to find.
        const environ = await readFile(`${PROC}/${pid}/environ`, "latin1").catch(() => "");
        const cookie = cookieInEnviron(environ);
        if (cookie !== undefined) carriers.set(pid, cookie);
      }),
    );
  }
  return carriers;
}

export function scanCookieCarriersNow(): CookieCarriers {
  if (!hasProcEnviron()) {
    try {
      return parsePsEnvironment(
        execFileSync("ps", PS_ARGS, {
          encoding: "utf8",
          maxBuffer: PS_BUFFER,
          timeout: 10_000,
          stdio: ["ignore", "pipe", "ignore"],
        }),
      );
    } catch {
      return new Map();
    }
  }
  const carriers: CookieCarriers = new Map();
  let names: string[] = [];
  try {
    names = readdirSync(PROC);
  } catch {
    return carriers;
  }
  for (const pid of processIds(names)) {
    let environ = "";
    try {
      environ = readFileSync(`${PROC}/${pid}/environ`, "latin1");
    } catch {
      continue;
    }
    const cookie = cookieInEnviron(environ);
    if (cookie !== undefined) carriers.set(pid, cookie);
  }
  return carriers;
}

/** The cookie in a NUL-separated environment block, if it holds one. */
export function cookieInEnviron(environ: string): string | undefined {
  const entry = `${COOKIE_VARIABLE}=`;
  let at = 0;
  if (!environ.startsWith(entry)) {
    const found = environ.indexOf(`\0${entry}`);
    if (found === -1) return undefined;
    at = found + 1;
  }
  const end = environ.indexOf("\0", at);
  const value = environ.slice(at + entry.length, end === -1 ? undefined : end);
  return value === "" ? undefined : value;
}

/** `ps -E` output (pid, then the command line and the environment): the cookies in it, by pid. */
export function parsePsEnvironment(output: string): CookieCarriers {
  const carriers: CookieCarriers = new Map();
  const cookie = new RegExp(`(?:^|\\s)${COOKIE_VARIABLE}=(\\S+)`);
  for (const line of output.split("\n")) {
    const row = /^\s*(\d+)\s+(.*)$/.exec(line);
    const found = row?.[2] === undefined ? null : cookie.exec(row[2]);
    const pid = Number(row?.[1]);
    if (found?.[1] !== undefined && pid !== process.pid) carriers.set(pid, found[1]);
  }
  return carriers;
}

const PS_ARGS = ["-A", "-ww", "-E", "-o", "pid=,command="];
const PS_BUFFER = 64 * 1024 * 1024;

function psEnvironment(): Promise<string> {
  return new Promise((resolve) => {
    execFile("ps", PS_ARGS, { maxBuffer: PS_BUFFER, timeout: 10_000 }, (error, stdout) =>
      resolve(error === null ? stdout : ""),
    );
  });
}

function processIds(names: readonly string[]): number[] {
  return names
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** One sweep's rounds: what it killed, and what it may not kill (so a round never waits on those). */
class Sweep {
  private readonly done = new Set<number>();
  private readonly refused = new Set<number>();
  constructor(private readonly matches: CookieMatch) {}

  /** Kills the matching carriers of one scan; false when there were none left to kill. */
  killFound(carriers: CookieCarriers): boolean {
    let any = false;
    for (const [pid, cookie] of carriers) {
      // Only single processes: 0 or a negative pid would signal a whole process group.
      if (pid <= 1 || !this.matches(cookie) || this.refused.has(pid)) continue;
      any = true;
      try {
        process.kill(pid, "SIGKILL");
        this.done.add(pid);
      } catch (cause) {
        // ESRCH: it ended meanwhile. EPERM: another user's process that carries the cookie (one
        // that changed its uid, say): it stays, and the next round does not wait for it.
        if (cause instanceof Error && "code" in cause && cause.code === "EPERM") this.refused.add(pid);
      }
    }
    return any;
  }

  killed(): number[] {
    return [...this.done];
  }
}
