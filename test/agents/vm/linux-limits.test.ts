import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../../agents/runtime/attempt-runner.ts";
import { runProcessGroup } from "../../../agents/runtime/process-group-run.ts";
import { DEFAULT_LIMITS } from "../../../agents/runtime/process-limits.ts";
import { type LinuxProbe, linuxSupervisor } from "../../../agents/vm/linux-limits.ts";
import { isRunning, killAll, waitUntil } from "../live-processes.ts";

const user = { name: "mesh-run", uid: 1500, gid: 1500, home: "/home/mesh-run" };
function probe(overrides: Partial<LinuxProbe> = {}): LinuxProbe {
  return {
    isRoot: () => true,
    systemdScope: () => false,
    hasCommand: () => true,
    parentDeathSignal: () => true,
    lookupUser: () => ({ ok: true, value: user }),
    ...overrides,
  };
}
const DIES_WITH_AGENT = ["setpriv", "--pdeathsig", "KILL", "--"];
const limits = { memoryMb: 512, maxProcs: 64, cpuS: 120 };

describe("linuxSupervisor", () => {
  it("wraps a command in a systemd scope holding memory and tasks, with prlimit for CPU", () => {
    const result = linuxSupervisor(limits, probe({ systemdScope: () => true }));
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.launch(["claude", "-p", "x"]).command).toEqual([
      "systemd-run",
      "--scope",
      "--quiet",
      "--collect",
      "-p",
      "MemoryMax=512M",
      "-p",
      "MemorySwapMax=0",
      "-p",
      "TasksMax=64",
      "--",
      "prlimit",
      "--cpu=120:125",
      "--",
      ...DIES_WITH_AGENT,
      "claude",
      "-p",
      "x",
    ]);
    expect(result.value.description).toContain("systemd scope");
  });

  it("uses the user's systemd manager when the agent is not root", () => {
    const result = linuxSupervisor(limits, probe({ isRoot: () => false, systemdScope: (asUser) => asUser }));
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.launch(["x"]).command.slice(0, 3)).toEqual(["systemd-run", "--user", "--scope"]);
  });

  it("falls back to prlimit: RLIMIT_DATA per process and CPU; no RLIMIT_NPROC without a dedicated user", () => {
    const result = linuxSupervisor(limits, probe());
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.launch(["codex", "exec"])).toEqual({
      command: ["prlimit", `--data=${512 * 1024 * 1024}`, "--cpu=120:125", "--", ...DIES_WITH_AGENT, "codex", "exec"],
      options: {},
      env: {},
    });
    expect(result.value.description).toMatch(/processes not enforced/);
  });

  it("runs children as a dedicated user with its own groups, and then limits its processes", () => {
    const result = linuxSupervisor({ ...limits, runAs: "mesh-run" }, probe());
    if (!result.ok) throw new Error(result.error.message);
    const plan = result.value.launch(["gemini"]);
    // The death signal comes after the uid change, which would clear it (prctl(2)).
    expect(plan.command).toEqual([
      "setpriv",
      "--reuid=1500",
      "--regid=1500",
      "--init-groups",
      "--",
      "prlimit",
      `--data=${512 * 1024 * 1024}`,
      "--cpu=120:125",
      "--nproc=64",
      "--",
      ...DIES_WITH_AGENT,
      "gemini",
    ]);
    expect(plan.env).toEqual({ HOME: "/home/mesh-run", USER: "mesh-run", LOGNAME: "mesh-run" });
    const noSetpriv = linuxSupervisor(
      { ...limits, runAs: "mesh-run" },
      probe({ hasCommand: (name) => name === "prlimit", parentDeathSignal: () => false }),
    );
    if (!noSetpriv.ok) throw new Error(noSetpriv.error.message);
    expect(noSetpriv.value.launch(["gemini"]).options).toEqual({ uid: 1500, gid: 1500 });
  });

  it("says so when the machine offers no limits, and refuses an unknown user", () => {
    const none = linuxSupervisor(limits, probe({ hasCommand: () => false, parentDeathSignal: () => false }));
    if (!none.ok) throw new Error(none.error.message);
    expect(none.value.launch(["x"]).command).toEqual(["x"]);
    expect(none.value.description).toContain("no resource limits");
    expect(
      linuxSupervisor(
        { ...limits, runAs: "nobody-here" },
        probe({
          lookupUser: () => ({
            ok: false,
            error: { code: "no_such_user", message: "--run-as nobody-here: no such user" },
          }),
        }),
      ),
    ).toEqual({ ok: false, error: { code: "no_such_user", message: "--run-as nobody-here: no such user" } });
  });

  it("leaves a limit set to 0 off", () => {
    const result = linuxSupervisor({ memoryMb: 0, maxProcs: 0, cpuS: 0 }, probe());
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.launch(["x"]).command).toEqual([...DIES_WITH_AGENT, "x"]);
  });

  it("has every child die with the agent where setpriv can set a parent-death signal, and says which", () => {
    const dies = linuxSupervisor(limits, probe({ hasCommand: () => false }));
    if (!dies.ok) throw new Error(dies.error.message);
    expect(dies.value.launch(["x"]).command).toEqual([...DIES_WITH_AGENT, "x"]);
    expect(dies.value.description).toContain("each child dies with the agent (setpriv --pdeathsig)");
    const outlives = linuxSupervisor(limits, probe({ parentDeathSignal: () => false }));
    if (!outlives.ok) throw new Error(outlives.error.message);
    expect(outlives.value.launch(["x"]).command).not.toContain("--pdeathsig");
    expect(outlives.value.description).toContain(
      "a killed agent's children are killed by the agent's guard (no setpriv --pdeathsig here)",
    );
  });
});

const hasPrlimit =
  process.platform === "linux" && spawnSync("prlimit", ["--version"], { stdio: "ignore" }).status === 0;
const hasSystemd = existsSync("/run/systemd/system");
if (!hasPrlimit && !hasSystemd)
  console.warn(
    "[skip] this machine has neither systemd nor prlimit: the real limits tests of linux-limits are skipped",
  );

describe.skipIf(!hasPrlimit && !hasSystemd)("linuxSupervisor on this machine", () => {
  const run = async (script: string, settings = { ...DEFAULT_LIMITS, memoryMb: 256, cpuS: 1 }) => {
    const made = linuxSupervisor(settings);
    if (!made.ok) throw new Error(made.error.message);
    const stderr: string[] = [];
    const group = runProcessGroup({
      command: [process.execPath, "-e", script],
      cwd: process.cwd(),
      env: process.env,
      supervisor: made.value,
      timeoutS: 30,
      killGraceMs: 1000,
      drainMs: 500,
      onStdout: () => {},
      onStderr: (l) => stderr.push(l),
      onNote: () => {},
    });
    return { end: await group.done, stderr: stderr.join("\n") };
  };

  it("stops a child that allocates past its memory limit", async () => {
    const { end, stderr } = await run(
      "const k = []; for (let i = 0; i < 200; i++) k.push(Buffer.alloc(16 * 1024 * 1024, 1)); console.log('not stopped')",
    );
    expect(end.exitCode === 0 && end.signal === null).toBe(false);
    if (!hasSystemd) expect(stderr).toMatch(/allocation failed|out of memory/i);
  });

  it("stops a child that spins past its CPU limit with SIGXCPU", async () => {
    const { end } = await run("for (;;) {}");
    expect(end.signal === "SIGXCPU" || end.signal === "SIGKILL").toBe(true);
  });

  it.each([
    [
      "memory",
      "const k = []; for (let i = 0; i < 200; i++) k.push(Buffer.alloc(16 * 1024 * 1024, 1)); console.log('not stopped')",
      "--memory-mb 256",
    ],
    ["CPU", "for (;;) {}", "--cpu-s 1"],
  ])("classes a run its %s limit stopped as resource_limit, naming the limit", async (_limit, script, flag) => {
    const made = linuxSupervisor({ ...DEFAULT_LIMITS, memoryMb: 256, cpuS: 1 });
    if (!made.ok) throw new Error(made.error.message);
    const attempt = runAttempt({
      executor: { command: [process.execPath, "-e", script], format: "text", timeout_s: 30 },
      prompt: "",
      cwd: process.cwd(),
      supervisor: made.value,
      onLine: () => {},
      killGraceMs: 1000,
      drainMs: 500,
    });
    const result = await attempt.done;
    expect(result.failure_class).toBe("resource_limit");
    expect(result.error?.message).toContain(flag);
  });
});

const parentDeathSignal =
  process.platform === "linux" &&
  spawnSync("setpriv", ["--pdeathsig", "KILL", "--", "true"], { stdio: "ignore" }).status === 0;
if (!parentDeathSignal)
  console.warn(
    "[skip] no setpriv with --pdeathsig here (util-linux 2.33 or later): children do not die with a killed agent",
  );

describe.skipIf(!parentDeathSignal)("a child started by the Linux supervisor", () => {
  it("dies when the process that started it is killed with SIGKILL", async () => {
    const made = linuxSupervisor({ memoryMb: 0, maxProcs: 0, cpuS: 0 });
    if (!made.ok) throw new Error(made.error.message);
    const command = made.value.launch(["sleep", "300"]).command;
    // A stand-in agent: spawns the planned command in a process group of its own, as the runtime
    // does, says the child's pid, and waits.
    const script = `const { spawn } = require("node:child_process"); const [program, ...args] = JSON.parse(process.argv[1]); const child = spawn(program, args, { stdio: "ignore", detached: true }); console.log(child.pid); setInterval(() => {}, 60000);`;
    const agent = spawn(process.execPath, ["-e", script, JSON.stringify(command)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const childPid = await new Promise<number>((resolve) =>
      agent.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    try {
      await waitUntil("the child to run sleep", () => isRunning(childPid));
      agent.kill("SIGKILL");
      // A bound, not a speed check: the kernel sends the signal at once; a loaded machine schedules late.
      await waitUntil("the child to die with its parent", () => !isRunning(childPid), 10_000);
    } finally {
      killAll([childPid, agent.pid ?? 0]);
    }
  });
});
