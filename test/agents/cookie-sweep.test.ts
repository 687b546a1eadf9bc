import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_RUN_ID, COOKIE_VARIABLE, cookieOfRun, newAttemptCookie } from "../../agents/runtime/attempt-cookie.ts";
import {
  cookieInEnviron,
  parsePsEnvironment,
  scanCookieCarriers,
  scanCookieCarriersNow,
  sweepCookieCarriers,
} from "../../agents/runtime/cookie-sweep.ts";
import { isRunning, killAll, waitUntil } from "./live-processes.ts";

const started: number[] = [];
afterEach(() => killAll(started.splice(0)));

/** A process of its own session carrying `cookie`, as a CLI's `setsid` child would. */
function carrier(cookie: string, script = "setInterval(() => {}, 60000)"): number {
  const child = spawn(process.execPath, ["-e", script], {
    env: { ...process.env, [COOKIE_VARIABLE]: cookie },
    stdio: "ignore",
    detached: true,
  });
  child.unref();
  if (child.pid === undefined) throw new Error("no pid");
  started.push(child.pid);
  return child.pid;
}

describe("attempt cookies", () => {
  it("are unique in a run and tell their run", () => {
    const [a, b] = [newAttemptCookie(), newAttemptCookie()];
    expect(a).not.toBe(b);
    expect(cookieOfRun(a, AGENT_RUN_ID)).toBe(true);
    expect(cookieOfRun(a, "0123456789ab")).toBe(false);
    // A run id that is a prefix of another's is not that run.
    expect(cookieOfRun(`${AGENT_RUN_ID}0/1`, AGENT_RUN_ID)).toBe(false);
  });

  it("is read from an environment block, first, last or in between, and not from a longer name", () => {
    expect(cookieInEnviron(`${COOKIE_VARIABLE}=r1/2\0PATH=/bin\0`)).toBe("r1/2");
    expect(cookieInEnviron(`PATH=/bin\0${COOKIE_VARIABLE}=r1/3`)).toBe("r1/3");
    expect(cookieInEnviron(`PATH=/bin\0X_${COOKIE_VARIABLE}=r1/4\0HOME=/root\0`)).toBeUndefined();
    expect(cookieInEnviron("")).toBeUndefined();
  });

  it("is read from ps -E output (macOS), by pid", () => {
    const output = [
      `  101 /usr/bin/sleep 300 PATH=/bin ${COOKIE_VARIABLE}=r1/5 HOME=/Users/x`,
      "  102 /bin/zsh PATH=/bin",
      `  103 node x.js ${COOKIE_VARIABLE}=r1/6`,
    ].join("\n");
    expect([...parsePsEnvironment(output)]).toEqual([
      [101, "r1/5"],
      [103, "r1/6"],
    ]);
  });
});

describe.skipIf(!existsSync("/proc/self/environ"))("sweeping cookie carriers on this machine", () => {
  it("finds processes by their cookie, synchronously and not", async () => {
    const cookie = newAttemptCookie();
    const pid = carrier(cookie);
    await waitUntil("the carrier to start", () => scanCookieCarriersNow().get(pid) === cookie);
    expect((await scanCookieCarriers()).get(pid)).toBe(cookie);
  });

  it("kills every carrier of the cookie, even one that keeps starting setsid children, and nothing else", async () => {
    const cookie = newAttemptCookie();
    const other = carrier(newAttemptCookie());
    const quiet = carrier(cookie);
    // A fork loop: a new `setsid sleep` every 5 ms, each in a session of its own.
    const spawner = carrier(
      cookie,
      `const { spawn } = require("node:child_process"); setInterval(() => spawn("setsid", ["sleep", "300"], { stdio: "ignore" }).unref(), 5);`,
    );
    await waitUntil(
      "the spawner to start children",
      () => [...scanCookieCarriersNow().values()].filter((found) => found === cookie).length >= 6,
    );
    const killed = await sweepCookieCarriers((found) => found === cookie);
    expect(killed).toEqual(expect.arrayContaining([quiet, spawner]));
    expect(killed.length).toBeGreaterThanOrEqual(6);
    await waitUntil("every carrier to be gone", () => killed.every((pid) => !isRunning(pid)));
    expect([...scanCookieCarriersNow().values()].filter((found) => found === cookie)).toEqual([]);
    expect(isRunning(other)).toBe(true);
  });
});
