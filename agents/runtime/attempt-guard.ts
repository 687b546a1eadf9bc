// The guard of an agent's attempts kills every attempt's whole tree when the agent dies, however it
// dies (SIGKILL included), so nothing an attempt started outlives its agent (docs/containment.md).
// The kernel's parent-death signal reaches only the CLI, and a killed agent runs no hook; something
// outside the agent must act. The guard is a `/bin/sh` script (about 1.7 MB; no Node), one per agent
// process rather than one per attempt: an attempt then costs two lines on a pipe, not a fork of the
// agent (docs/containment.md has the figures). It is started in a session of its own, so no
// attempt's group kill and no signal to the agent's group reaches it, holding the read end of a
// pipe whose write end only the agent holds. The agent tells it `+<pgid>` when an attempt's command
// starts and `-<pgid>` once it ended and was swept. End of file means the agent is gone: the guard
// kills the process groups still listed, then every process carrying a cookie of this agent's run
// (attempt-cookie.ts), scan after scan until one finds none, and exits. It ignores SIGTERM, SIGINT
// and SIGHUP: a terminal's or a service manager's stop reaches it with its agent, and it must still
// act. It carries no cookie (its environment has none; the run id is an argument), so no sweep
// takes it for part of an attempt.
import { type ChildProcess, spawn } from "node:child_process";
import { Socket } from "node:net";
import { AGENT_RUN_ID, COOKIE_VARIABLE } from "./attempt-cookie.ts";

/**
 * The guard's script, for any POSIX sh (dash here). `$1` is the run id (hex), `$2` the cookie
 * variable's name: kept apart so the guard's own command line never reads `NAME=<run id>/`, which
 * `ps -E` would match. Carriers come from /proc/<pid>/environ where Linux has it (one `grep -z` over
 * all of them), else from `ps -E` (macOS). A scan that finds none after a kill is trusted only when
 * a second one, 50 ms later, agrees: a process in the middle of `execve` reads an empty environment
 * for a moment (cookie-sweep.ts has the same rule).
 */
export const GUARD_SCRIPT = `trap '' HUP INT TERM PIPE
groups=
while IFS= read -r line; do
  group=\${line#?}
  case $group in ''|*[!0-9]*) continue ;; esac
  case $line in
    +*) groups="$groups $group" ;;
    -*) kept=; for listed in $groups; do [ "$listed" = "$group" ] || kept="$kept $listed"; done; groups=$kept ;;
  esac
done
carriers() {
  if [ -r /proc/self/environ ]; then
    for file in $(grep -lzx -- "$2=$1/[0-9]*" /proc/[0-9]*/environ 2>/dev/null); do
      pid=\${file#/proc/}
      pid=\${pid%/environ}
      [ "$pid" -gt 1 ] && [ "$pid" != $$ ] && echo "$pid"
    done
  else
    ps -A -ww -E -o pid=,command= 2>/dev/null | awk -v prefix="$2=$1/" -v self=$$ '{ for (i = 2; i <= NF; i++) if (index($i, prefix) == 1) { if ($1 > 1 && $1 != self) print $1; break } }'
  fi
}
killed=0
round=0
while [ $round -lt 20 ]; do
  round=$((round + 1))
  for group in $groups; do [ "$group" -gt 1 ] && kill -s KILL -- "-$group" 2>/dev/null && killed=1; done
  pids=$(carriers "$@")
  if [ -n "$pids" ]; then kill -s KILL $pids 2>/dev/null; killed=1; continue; fi
  [ $killed = 0 ] && break
  sleep 0.05
  pids=$(carriers "$@")
  [ -z "$pids" ] && break
  kill -s KILL $pids 2>/dev/null
done
`;

/** The name a guard shows as its `$0` (in `ps`). */
export const GUARD_NAME = "mesh-attempt-guard";

/**
 * One run's guard, as the agent holds it: started at the first attempt, started again at the next
 * one if it died (it is then told every group still running).
 */
export class RunGuard {
  private child: ChildProcess | undefined;
  private stdin: Socket | undefined;
  private readonly groups = new Set<number>();

  constructor(private readonly runId: string) {}

  /** The guard process, once started and while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /**
   * Makes sure the guard runs, before an attempt's command starts (a death of the agent in between
   * still has the attempt's cookie swept). `wrapper` goes before `/bin/sh`: under systemd, a scope of
   * its own, so a stop of the agent's service does not kill the guard with it (vm/linux-limits.ts).
   * Linux and macOS only; elsewhere there is no guard.
   */
  ensure(wrapper: readonly string[] = []): void {
    if (this.pid !== undefined || (process.platform !== "linux" && process.platform !== "darwin")) return;
    const command = [...wrapper, "/bin/sh", "-c", GUARD_SCRIPT, GUARD_NAME, this.runId, COOKIE_VARIABLE];
    const env: NodeJS.ProcessEnv = { ...process.env };
    // An agent started by another agent's attempt carries that attempt's cookie: its guard must not.
    delete env[COOKIE_VARIABLE];
    let child: ChildProcess;
    try {
      child = spawn(command[0] ?? "/bin/sh", command.slice(1), {
        stdio: ["pipe", "ignore", "ignore"],
        detached: true,
        env,
      });
    } catch {
      return;
    }
    // A guard that could not start, or died, fails no attempt: it only guards, and the next start
    // sweeps what a killed run left (leftover-sweep.ts).
    child.on("error", () => {});
    child.stdin?.on("error", () => {});
    // Neither the guard nor its pipe keeps the agent's event loop alive.
    child.unref();
    const stdin = child.stdin instanceof Socket ? child.stdin : undefined;
    stdin?.unref();
    this.child = child;
    this.stdin = stdin;
    for (const group of this.groups) this.tell(`+${group}`);
  }

  /** An attempt's command runs in the process group `pgid` (its pid). */
  add(pgid: number): void {
    this.groups.add(pgid);
    this.tell(`+${pgid}`);
  }

  /** That attempt ended and the agent killed its tree: the group is no longer the guard's. */
  remove(pgid: number): void {
    if (this.groups.delete(pgid)) this.tell(`-${pgid}`);
  }

  private tell(line: string): void {
    if (this.stdin?.writable === true) this.stdin.write(`${line}\n`);
  }
}

/** The guard of this agent process's run: every attempt's cookie is of this run. */
export const attemptGuard = new RunGuard(AGENT_RUN_ID);
