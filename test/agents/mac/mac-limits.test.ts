import { describe, expect, it } from "vitest";
import { keepAwakeWhile, type Spawner } from "../../../agents/mac/keep-awake.ts";
import { macSupervisor } from "../../../agents/mac/mac-limits.ts";
import { watchGroupMemory } from "../../../agents/mac/memory-watchdog.ts";
import { runProcessGroup } from "../../../agents/runtime/process-group-run.ts";

describe("macSupervisor", () => {
  it("sets the CPU limit with ulimit and execs the command in place", () => {
    const made = macSupervisor({ memoryMb: 1024, maxProcs: 100, cpuS: 60 });
    if (!made.ok) throw new Error(made.error.message);
    expect(made.value.launch(["claude", "-p", "a b"]).command).toEqual([
      "/bin/sh",
      "-c",
      'ulimit -H -t 65; ulimit -S -t 60; exec "$@"',
      "sh",
      "claude",
      "-p",
      "a b",
    ]);
    expect(made.value.description).toContain("processes not enforced (needs --run-as on macOS)");
    expect(made.value.watch).toBeTypeOf("function");
  });

  it("limits processes only for a dedicated user, whom children run as", () => {
    const made = macSupervisor({ memoryMb: 0, maxProcs: 100, cpuS: 0, runAs: "mesh" }, () => ({
      ok: true,
      value: { name: "mesh", uid: 501, gid: 20, home: "/Users/mesh" },
    }));
    if (!made.ok) throw new Error(made.error.message);
    const plan = made.value.launch(["codex"]);
    expect(plan.command).toEqual(["/bin/sh", "-c", 'ulimit -u 100; exec "$@"', "sh", "codex"]);
    expect(plan.options).toEqual({ uid: 501, gid: 20 });
  });

  it("keeps the Mac awake while each run goes (caffeinate -i -w <pid>), and stops that with the run", () => {
    const awake: number[] = [];
    const released: number[] = [];
    const made = macSupervisor({ memoryMb: 0, maxProcs: 0, cpuS: 0 }, undefined, (pid) => {
      awake.push(pid);
      return () => void released.push(pid);
    });
    if (!made.ok) throw new Error(made.error.message);
    const unwatch = made.value.watch?.(4242, () => undefined);
    expect(awake).toEqual([4242]);
    unwatch?.();
    expect(released).toEqual([4242]);
  });

  it("runs caffeinate only on macOS", () => {
    const calls: string[][] = [];
    const fake = (command: string, args: readonly string[]) => {
      calls.push([command, ...args]);
      return { kill: () => true, on: () => undefined } as unknown as ReturnType<Spawner>;
    };
    keepAwakeWhile(77, "linux", fake)();
    expect(calls).toEqual([]);
    keepAwakeWhile(77, "darwin", fake)();
    expect(calls).toEqual([["/usr/bin/caffeinate", "-i", "-w", "77"]]);
  });

  it("runs a child through its sh wrapper with the same pid and arguments intact", async () => {
    const made = macSupervisor({ memoryMb: 0, maxProcs: 0, cpuS: 30 });
    if (!made.ok) throw new Error(made.error.message);
    const lines: string[] = [];
    const group = runProcessGroup({
      command: [
        process.execPath,
        "-e",
        "console.log(process.pid, JSON.stringify(process.argv.slice(1)))",
        "two words",
        "$HOME",
      ],
      cwd: process.cwd(),
      env: process.env,
      supervisor: made.value,
      timeoutS: 30,
      killGraceMs: 500,
      drainMs: 200,
      onStdout: (line) => lines.push(line),
      onStderr: () => {},
      onNote: () => {},
    });
    const end = await group.done;
    expect(end.exitCode).toBe(0);
    expect(lines).toEqual([`${group.pid} ["two words","$HOME"]`]);
  });
});

describe("watchGroupMemory", () => {
  it("calls the breach once the group's resident memory is over the limit", async () => {
    const readings = [100 * 1024, 300 * 1024];
    const notes: string[] = [];
    const unwatch = watchGroupMemory(
      42,
      256,
      (note) => notes.push(note),
      async () => readings.shift(),
      10,
    );
    await new Promise((done) => setTimeout(done, 80));
    unwatch();
    expect(notes).toEqual(["its processes use 300 MB, over the agent's memory limit of 256 MB (--memory-mb)"]);
  });

  it("stops a real process group that grows past the limit", async () => {
    const made = macSupervisor({ memoryMb: 150, maxProcs: 0, cpuS: 0 });
    if (!made.ok) throw new Error(made.error.message);
    const group = runProcessGroup({
      command: [
        process.execPath,
        "-e",
        "const k = []; setInterval(() => { if (k.length < 60) k.push(Buffer.alloc(16 * 1024 * 1024, 1)); }, 50)",
      ],
      cwd: process.cwd(),
      env: process.env,
      supervisor: made.value,
      timeoutS: 30,
      killGraceMs: 500,
      drainMs: 200,
      onStdout: () => {},
      onStderr: () => {},
      onNote: () => {},
    });
    const end = await group.done;
    // A limit, not the model: resource_limit, so the task does not climb tiers re-running the hog.
    expect(end.stopped).toEqual({
      as: "resource_limit",
      note: expect.stringContaining("over the agent's memory limit of 150 MB"),
    });
  });
});
