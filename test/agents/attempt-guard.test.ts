// The guard of an agent's attempts (docs/containment.md): when its agent dies, even by SIGKILL, it
// kills every attempt's whole tree (its group, a setsid grandchild, a double-forked daemon) and
// exits; an attempt that ended is not its to kill. Real processes: an agent stand-in
// (fixtures/guard-holder.ts) is SIGKILLed while the family fixture runs.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COOKIE_VARIABLE } from "../../agents/runtime/attempt-cookie.ts";
import { GUARD_NAME, RunGuard } from "../../agents/runtime/attempt-guard.ts";
import { scanCookieCarriers } from "../../agents/runtime/cookie-sweep.ts";
import { type LinuxProbe, linuxSupervisor } from "../../agents/vm/linux-limits.ts";
import { isRunning, killAll, waitUntil } from "./live-processes.ts";

const HOLDER = join(import.meta.dirname, "../fixtures/guard-holder.ts");
type Family = { cli: number; child: number; setsid: number; daemon: number };
type Said = { guard: number; running?: number; ended?: number; killedGuard?: number };
const members = (family: Family): number[] => [family.cli, family.child, family.setsid, family.daemon];

const leftovers: number[] = [];
afterEach(() => killAll(leftovers.splice(0)));

/** A stand-in agent running its guard and what `mode` asks (guard-holder.ts); resolves once all of it runs. */
async function holder(mode: "armed" | "unarmed" | "ended" | "respawned", then: "wait" | "exit" = "wait") {
  const pidFile = join(mkdtempSync(join(tmpdir(), "mesh-guard-")), "pids.json");
  const agent = spawn(process.execPath, ["--import", "tsx", HOLDER, pidFile, mode, then], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  leftovers.push(agent.pid ?? 0);
  const said = await new Promise<Said>((resolve, reject) => {
    let text = "";
    agent.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n")[0];
      if (text.includes("\n") && line !== undefined) resolve(JSON.parse(line) as Said);
    });
    agent.on("exit", () => reject(new Error("the holder exited before it told its pids")));
  });
  leftovers.push(...Object.values(said));
  const family = async (): Promise<Family> => {
    await waitUntil("the family to write its pids", () => existsSync(pidFile), 10_000);
    const read = JSON.parse(readFileSync(pidFile, "utf8")) as Family;
    leftovers.push(...members(read));
    return read;
  };
  return { agent, said, family };
}

describe.skipIf(process.platform !== "linux")("the guard of an agent's attempts", () => {
  it("kills the attempt's group, its setsid grandchild and its double-forked daemon when the agent is SIGKILLed, then exits", async () => {
    const { agent, said, family } = await holder("armed");
    const pids = await family();
    expect(pids.cli).toBeGreaterThan(1);
    expect(members(pids).every(isRunning)).toBe(true);
    expect(readFileSync(`/proc/${said.guard}/cmdline`, "utf8")).toContain(GUARD_NAME);
    // Not part of any attempt: no cookie in its environment.
    const cookie = (await scanCookieCarriers()).get(pids.cli);
    expect(cookie).toBeDefined();
    expect((await scanCookieCarriers()).has(said.guard)).toBe(false);
    agent.kill("SIGKILL");
    await waitUntil(
      "every process of the attempt to be gone",
      () => members(pids).every((pid) => !isRunning(pid)),
      3000,
    );
    await waitUntil("the guard to exit", () => !isRunning(said.guard), 3000);
    expect([...(await scanCookieCarriers()).values()]).not.toContain(cookie);
  });

  it("finds an attempt by its cookie alone when the agent died before naming its group", async () => {
    const { agent, said, family } = await holder("unarmed");
    const pids = await family();
    agent.kill("SIGKILL");
    await waitUntil(
      "every process of the attempt to be gone",
      () => members(pids).every((pid) => !isRunning(pid)),
      3000,
    );
    await waitUntil("the guard to exit", () => !isRunning(said.guard), 3000);
  });

  it("kills the group of a running attempt but not that of an ended one", async () => {
    const { agent, said } = await holder("ended");
    const running = said.running ?? 0;
    const ended = said.ended ?? 0;
    expect(isRunning(running) && isRunning(ended)).toBe(true);
    agent.kill("SIGKILL");
    await waitUntil("the running attempt's group to be killed", () => !isRunning(running), 3000);
    await waitUntil("the guard to exit", () => !isRunning(said.guard), 3000);
    expect(isRunning(ended)).toBe(true);
  });

  it("does the same when its agent exits normally, and exits too", async () => {
    const { said } = await holder("ended", "exit");
    await waitUntil("the running attempt's group to be killed", () => !isRunning(said.running ?? 0), 3000);
    await waitUntil("the guard to exit", () => !isRunning(said.guard), 3000);
    expect(isRunning(said.ended ?? 0)).toBe(true);
  });

  it("is started again when it died, and the new guard knows the groups still running", async () => {
    const { agent, said } = await holder("respawned");
    expect(said.guard).not.toBe(said.killedGuard);
    expect(isRunning(said.running ?? 0)).toBe(true);
    agent.kill("SIGKILL");
    await waitUntil("the running attempt's group to be killed", () => !isRunning(said.running ?? 0), 3000);
  });

  it("kills nothing while its agent runs, however attempts end", async () => {
    const guard = new RunGuard("0123456789ab");
    guard.ensure();
    const carrier = spawn("sleep", ["300"], {
      env: { ...process.env, [COOKIE_VARIABLE]: "0123456789ab/1" },
      stdio: "ignore",
      detached: true,
    });
    leftovers.push(carrier.pid ?? 0, guard.pid ?? 0);
    expect(guard.pid).toBeGreaterThan(1);
    guard.add(carrier.pid ?? 0);
    guard.remove(carrier.pid ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(isRunning(carrier.pid ?? 0)).toBe(true);
    expect(isRunning(guard.pid ?? 0)).toBe(true);
  });
});

describe("the guard under systemd", () => {
  const probe: LinuxProbe = {
    isRoot: () => true,
    systemdScope: () => true,
    hasCommand: () => true,
    parentDeathSignal: () => true,
    lookupUser: () => ({ ok: false, error: { code: "no_such_user", message: "no user" } }),
  };
  it("runs in a scope of its own where the children run in scopes, so the stop of the agent's service spares it", () => {
    const scoped = linuxSupervisor({ memoryMb: 512, maxProcs: 64, cpuS: 0 }, probe);
    if (!scoped.ok) throw new Error(scoped.error.message);
    expect(scoped.value.guardWrapper).toEqual(["systemd-run", "--scope", "--quiet", "--collect", "--"]);
    const asUser = linuxSupervisor({ memoryMb: 512, maxProcs: 64, cpuS: 0 }, { ...probe, isRoot: () => false });
    if (!asUser.ok) throw new Error(asUser.error.message);
    expect(asUser.value.guardWrapper).toEqual(["systemd-run", "--user", "--scope", "--quiet", "--collect", "--"]);
    const plain = linuxSupervisor({ memoryMb: 512, maxProcs: 64, cpuS: 0 }, { ...probe, systemdScope: () => false });
    if (!plain.ok) throw new Error(plain.error.message);
    expect(plain.value.guardWrapper).toEqual([]);
  });
});
