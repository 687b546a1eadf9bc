// An attempt's guard (docs/containment.md): when its agent dies, even by SIGKILL, it kills the
// attempt's whole tree (its group, a setsid grandchild, a double-forked daemon) and exits; when the
// attempt ends normally it exits and kills nothing. Real processes: an agent stand-in
// (fixtures/guard-holder.ts) is SIGKILLed while the family fixture runs.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COOKIE_VARIABLE, newAttemptCookie } from "../../agents/runtime/attempt-cookie.ts";
import { GUARD_NAME, startAttemptGuard } from "../../agents/runtime/attempt-guard.ts";
import { scanCookieCarriers } from "../../agents/runtime/cookie-sweep.ts";
import { linuxSupervisor } from "../../agents/vm/linux-limits.ts";
import { isRunning, killAll, waitUntil } from "./live-processes.ts";

const HOLDER = join(import.meta.dirname, "../fixtures/guard-holder.ts");
type Family = { cli: number; child: number; setsid: number; daemon: number };
const members = (family: Family): number[] => [family.cli, family.child, family.setsid, family.daemon];

const leftovers: number[] = [];
afterEach(() => killAll(leftovers.splice(0)));

/** A stand-in agent with a guarded attempt running the family fixture; resolves once all of it runs. */
async function guardedFamily(mode: "armed" | "unarmed") {
  const pidFile = join(mkdtempSync(join(tmpdir(), "mesh-guard-")), "pids.json");
  const holder = spawn(process.execPath, ["--import", "tsx", HOLDER, pidFile, mode], { stdio: ["ignore", "pipe", "inherit"] });
  leftovers.push(holder.pid ?? 0);
  const said = await new Promise<{ guard: number; cookie: string }>((resolve, reject) => {
    let text = "";
    holder.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n")[0];
      if (text.includes("\n") && line !== undefined) resolve(JSON.parse(line) as { guard: number; cookie: string });
    });
    holder.on("exit", () => reject(new Error("the holder exited")));
  });
  leftovers.push(said.guard);
  await waitUntil("the family to write its pids", () => existsSync(pidFile), 10_000);
  const family = JSON.parse(readFileSync(pidFile, "utf8")) as Family;
  leftovers.push(...members(family));
  return { holder, guard: said.guard, cookie: said.cookie, family };
}

describe.skipIf(process.platform !== "linux")("an attempt's guard", () => {
  it("kills the attempt's group, its setsid grandchild and its double-forked daemon when the agent is SIGKILLed, then exits", async () => {
    const { holder, guard, cookie, family } = await guardedFamily("armed");
    expect(members(family).every(isRunning)).toBe(true);
    expect(readFileSync(`/proc/${guard}/cmdline`, "utf8")).toContain(GUARD_NAME);
    // Not part of the attempt: no cookie in its environment, not in the attempt's group.
    expect((await scanCookieCarriers()).has(guard)).toBe(false);
    holder.kill("SIGKILL");
    await waitUntil("every process of the attempt to be gone", () => members(family).every((pid) => !isRunning(pid)), 3000);
    await waitUntil("the guard to exit", () => !isRunning(guard), 3000);
    expect([...(await scanCookieCarriers()).values()]).not.toContain(cookie);
  });

  it("finds the attempt by its cookie alone when the agent died before naming the group", async () => {
    const { holder, guard, family } = await guardedFamily("unarmed");
    holder.kill("SIGKILL");
    await waitUntil("every process of the attempt to be gone", () => members(family).every((pid) => !isRunning(pid)), 3000);
    await waitUntil("the guard to exit", () => !isRunning(guard), 3000);
  });

  it("exits and kills nothing when the attempt ends normally", async () => {
    const cookie = newAttemptCookie();
    const guard = startAttemptGuard(cookie);
    const carrier = spawn("sleep", ["300"], { env: { ...process.env, [COOKIE_VARIABLE]: cookie }, stdio: "ignore", detached: true });
    leftovers.push(carrier.pid ?? 0, guard.pid ?? 0);
    expect(guard.pid).toBeGreaterThan(1);
    guard.arm(carrier.pid ?? 0);
    guard.release();
    await waitUntil("the guard to exit", () => !isRunning(guard.pid ?? 0), 3000);
    expect(isRunning(carrier.pid ?? 0)).toBe(true);
  });
});

describe("the guard under systemd", () => {
  const probe = { isRoot: () => true, systemdScope: () => true, hasCommand: () => true, parentDeathSignal: () => true, lookupUser: () => "no user" };
  it("runs in a scope of its own where the children run in scopes, so the stop of the agent's service spares it", () => {
    const scoped = linuxSupervisor({ memoryMb: 512, maxProcs: 64, cpuS: 0 }, probe);
    if (!scoped.ok) throw new Error(scoped.error);
    expect(scoped.value.guardWrapper).toEqual(["systemd-run", "--scope", "--quiet", "--collect", "--"]);
    const asUser = linuxSupervisor({ memoryMb: 512, maxProcs: 64, cpuS: 0 }, { ...probe, isRoot: () => false });
    if (!asUser.ok) throw new Error(asUser.error);
    expect(asUser.value.guardWrapper).toEqual(["systemd-run", "--user", "--scope", "--quiet", "--collect", "--"]);
    const plain = linuxSupervisor({ memoryMb: 512, maxProcs: 64, cpuS: 0 }, { ...probe, systemdScope: () => false });
    if (!plain.ok) throw new Error(plain.error);
    expect(plain.value.guardWrapper).toEqual([]);
  });
});
