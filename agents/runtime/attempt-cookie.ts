// Every child an agent starts carries a cookie in its environment, and so does everything it starts in
// turn: environments are inherited through fork, exec, `setsid` and detached spawns alike, so the
// cookie still finds a child that left its process group (docs/containment.md; the way Jenkins'
// ProcessTreeKiller finds a build's escaped processes). A cookie is `<run id>/<n>`: the run id is
// this agent process's, fresh at each start, so the next start can sweep what a killed run left
// (leftover-sweep.ts) without touching anything else; `n` tells one child run from another.
import { randomBytes } from "node:crypto";

/** The environment variable that holds the cookie. */
export const COOKIE_VARIABLE = "MESH_ATTEMPT_COOKIE";

/** This agent process's run: 48 random bits, so no other run ever shares it. */
export const AGENT_RUN_ID = randomBytes(6).toString("hex");

let issued = 0;

/** A cookie for one child run (a CLI or an acceptance command) of this agent process. */
export function newAttemptCookie(): string {
  issued += 1;
  return `${AGENT_RUN_ID}/${issued}`;
}

/** Whether a cookie was issued by the run `runId`. */
export function cookieOfRun(cookie: string, runId: string): boolean {
  return cookie.startsWith(`${runId}/`);
}
