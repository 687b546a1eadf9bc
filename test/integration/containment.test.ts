// Containment on a real mesh with real agent processes (docs/containment.md): an attempt's escaped
// children die with it, and nothing of an attempt outlives its SIGKILLed agent (the CLI by setpriv
// --pdeathsig or its guard, everything it started by the attempt's guard).
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookieInEnviron, scanCookieCarriers } from "../../agents/runtime/cookie-sweep.ts";
import type { TaskView } from "../../protocol/index.ts";
import { isRunning, killAll } from "../agents/live-processes.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

const ESCAPER = join(FIXTURES, "escaping-children.mjs");
const FAMILY = join(FIXTURES, "guard-family.mjs");
type Pids = { cli: number; setsid: number[]; detached: number[] };
type Family = { cli: number; child: number; setsid: number; daemon: number };
const everyPid = (pids: Pids): number[] => [pids.cli, ...pids.setsid, ...pids.detached];
const cookieOf = (pid: number): string | undefined => cookieInEnviron(readFileSync(`/proc/${pid}/environ`, "latin1"));

let mesh: Mesh;
const agents: TestAgent[] = [];
const spawned: number[] = [];

beforeAll(async () => {
  mesh = await startMesh({ MESH_HEARTBEAT_S: "1" });
});

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await mesh?.stop();
  killAll(spawned);
});

async function pidsIn(file: string): Promise<Pids> {
  await waitFor(`the CLI to write ${file}`, () => existsSync(file), 30_000);
  const pids = JSON.parse(readFileSync(file, "utf8")) as Pids;
  spawned.push(...everyPid(pids));
  return pids;
}

describe.skipIf(process.platform !== "linux")("containment", () => {
  it("leaves no process of a succeeded attempt, not even 20 setsid children and 5 detached ones", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "mesh-contain-")), "pids.json");
    const agent = await startAgent(mesh, "vm-escapes", {
      executors: {
        deepseek: { command: [process.execPath, ESCAPER, pidFile, "20", "5", "exit"], format: "text", timeout_s: 60 },
      },
    });
    agents.push(agent);
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "escape", executor: "deepseek", agent: agent.name },
    });
    const pids = await pidsIn(pidFile);
    const task = await mesh.finished(created.body.task_id);
    expect(task.status).toBe("succeeded");
    await waitFor(
      "every process of the attempt to be gone",
      () => everyPid(pids).every((pid) => !isRunning(pid)),
      5000,
    );
    const { body } = await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${task.task_id}/logs`);
    expect(
      body.lines.some((line) => line.text.includes("killed 25 process(es) it left running, found by its cookie")),
    ).toBe(true);
  });

  it("leaves nothing of an attempt 3 s after its agent is SIGKILLed: the CLI, its child, a setsid grandchild, a double-forked daemon", async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), "mesh-contain-")), "pids.json");
    // Prints nothing and never ends: only the agent knows it runs.
    const silent = { command: [process.execPath, FAMILY, pidFile, "hang"], format: "text" as const, timeout_s: 120 };
    const agent = await startAgent(mesh, "vm-killed", { executors: { sonnet: silent } });
    agents.push(agent);
    await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: "hang", executor: "sonnet", agent: agent.name },
    });
    await waitFor(`the CLI to write ${pidFile}`, () => existsSync(pidFile), 30_000);
    const family = JSON.parse(readFileSync(pidFile, "utf8")) as Family;
    const members = [family.cli, family.child, family.setsid, family.daemon];
    spawned.push(...members);
    expect(members.every(isRunning)).toBe(true);
    const cookie = cookieOf(family.cli);
    expect(cookie).toBeDefined();

    agent.process.kill("SIGKILL");
    // Polled up to the bound, then asserted: by then no process carries the attempt's cookie.
    const survivors = async (): Promise<number[]> => [
      ...new Set([
        ...members.filter(isRunning),
        ...[...(await scanCookieCarriers())].filter(([, found]) => found === cookie).map(([pid]) => pid),
      ]),
    ];
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && (await survivors()).length > 0)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await survivors()).toEqual([]);
  });
});
