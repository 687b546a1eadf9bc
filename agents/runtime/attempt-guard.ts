// A guard per attempt kills the attempt's whole tree when its agent dies, however it dies (SIGKILL
// included), so nothing an attempt started outlives its agent (docs/containment.md). The kernel's
// parent-death signal reaches only the CLI; a killed agent runs no hook; and nothing outside the
// agent acts on its death unless something is made to. The guard is that something: a `/bin/sh`
// script (about 1.7 MB and 2 ms to start, against some 40 MB and 50 ms for a Node one), spawned in a
// session of its own so the attempt's group kill never reaches it, holding the read end of a pipe
// whose write end only the agent holds. The agent writes the attempt's process group, and `end` once
// the attempt has ended and been swept; the guard then exits without killing. End of file without
// `end` means the agent is gone: the guard kills the group, then every process carrying the
// attempt's cookie, scan after scan until one finds none, and exits. It ignores SIGTERM, SIGINT and
// SIGHUP: a terminal's or a service manager's stop reaches it with its agent, and it must still act.
// It does not carry the cookie (its environment has none; the cookie is an argument), so no sweep
// takes it for part of the attempt.
import { spawn, type ChildProcess } from "node:child_process";
import { Socket } from "node:net";
import { COOKIE_VARIABLE } from "./attempt-cookie.ts";

/**
 * The guard's script, for any POSIX sh (dash here). `$1` is the cookie, `$2` the variable's name (kept
 * apart so the guard's own command line never reads `NAME=cookie`, which `ps -E` would match).
 * Carriers come from /proc/<pid>/environ where Linux has it (one `grep -z` over all of them), else
 * from `ps -E` (macOS). A scan that finds none after a kill is trusted only when a second one, 50 ms
 * later, agrees: a process in the middle of `execve` reads an empty environment for a moment
 * (cookie-sweep.ts has the same rule).
 */
export const GUARD_SCRIPT = `trap '' HUP INT TERM PIPE
pgid=0
while IFS= read -r line; do
  case $line in end) exit 0 ;; *) pgid=$line ;; esac
done
case $pgid in ''|*[!0-9]*) pgid=0 ;; esac
carriers() {
  if [ -r /proc/self/environ ]; then
    for file in $(grep -lzxF -- "$2=$1" /proc/[0-9]*/environ 2>/dev/null); do
      pid=\${file#/proc/}
      pid=\${pid%/environ}
      [ "$pid" -gt 1 ] && [ "$pid" != $$ ] && echo "$pid"
    done
  else
    ps -A -ww -E -o pid=,command= 2>/dev/null | awk -v entry="$2=$1" -v self=$$ '{ for (i = 2; i <= NF; i++) if ($i == entry) { if ($1 > 1 && $1 != self) print $1; break } }'
  fi
}
killed=0
round=0
while [ $round -lt 20 ]; do
  round=$((round + 1))
  [ "$pgid" -gt 1 ] && kill -KILL -- "-$pgid" 2>/dev/null && killed=1
  pids=$(carriers "$@")
  if [ -n "$pids" ]; then kill -KILL $pids 2>/dev/null; killed=1; continue; fi
  [ $killed = 0 ] && break
  sleep 0.05
  pids=$(carriers "$@")
  [ -z "$pids" ] && break
  kill -KILL $pids 2>/dev/null
done
`;

/** The name a guard shows as its `$0` (in `ps`). */
export const GUARD_NAME = "mesh-attempt-guard";

/** One attempt's guard, as the agent holds it. */
export interface AttemptGuard {
  /** The guard process; undefined where none runs (another platform, or it could not start). */
  readonly pid: number | undefined;
  /** Tells the guard the attempt's process group (the CLI's pid, which leads it). */
  arm(pgid: number): void;
  /** The attempt ended and the agent killed its tree: the guard exits without killing anything. */
  release(): void;
}

const NO_GUARD: AttemptGuard = { pid: undefined, arm: () => {}, release: () => {} };

/**
 * Starts the guard of the attempt whose children carry `cookie`, before the attempt's command starts
 * (a death of the agent in between still has the cookie swept). `wrapper` goes before `/bin/sh`:
 * under systemd, a scope of its own, so a stop of the agent's service does not kill the guard with it
 * (vm/linux-limits.ts). Linux and macOS only; elsewhere there is no guard.
 */
export function startAttemptGuard(cookie: string, wrapper: readonly string[] = []): AttemptGuard {
  if (process.platform !== "linux" && process.platform !== "darwin") return NO_GUARD;
  const command = [...wrapper, "/bin/sh", "-c", GUARD_SCRIPT, GUARD_NAME, cookie, COOKIE_VARIABLE];
  const env: NodeJS.ProcessEnv = { ...process.env };
  // An agent started by another agent's attempt carries that attempt's cookie: the guard must not.
  delete env[COOKIE_VARIABLE];
  let child: ChildProcess;
  try {
    // Its own session: not in the attempt's group, nor in the agent's (a terminal's Ctrl-C).
    child = spawn(command[0] ?? "/bin/sh", command.slice(1), { stdio: ["pipe", "ignore", "ignore"], detached: true, env });
  } catch {
    return NO_GUARD;
  }
  // A guard that could not start, or died, is no reason to fail the attempt: it only guards.
  child.on("error", () => {});
  const stdin = child.stdin;
  stdin?.on("error", () => {});
  // Neither the guard nor its pipe keeps the agent's event loop alive.
  child.unref();
  if (stdin instanceof Socket) stdin.unref();
  let released = false;
  return {
    pid: child.pid,
    arm(pgid) {
      if (!released && stdin?.writable === true) stdin.write(`${pgid}\n`);
    },
    release() {
      if (released) return;
      released = true;
      if (stdin?.writable === true) stdin.end("end\n");
    },
  };
}
