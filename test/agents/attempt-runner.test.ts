import { describe, expect, it } from "vitest";
import { commandFor } from "../../agents/runtime/attempt-command.ts";
import type { AttemptRunInput } from "../../agents/runtime/attempt-run-types.ts";
import { runAttempt } from "../../agents/runtime/attempt-runner.ts";
import type { ExecutorSpec, OutputLine } from "../../protocol/index.ts";
import { isRunning, waitUntil } from "./live-processes.ts";

const node = process.execPath;

function executor(script: string, extra: Partial<ExecutorSpec> = {}): ExecutorSpec {
  return { command: [node, "-e", script, "{prompt}"], format: "text", timeout_s: 30, ...extra };
}

function run(spec: ExecutorSpec, options: Partial<AttemptRunInput> = {}) {
  const lines: OutputLine[] = [];
  const running = runAttempt({
    executor: spec,
    prompt: "the prompt",
    cwd: process.cwd(),
    onLine: (line) => lines.push(line),
    ...options,
  });
  return { running, lines };
}

describe("runAttempt", () => {
  it("stops reading a throttled child, which then blocks on its writes, and loses nothing once resumed", async () => {
    // 20,000 lines of 100 bytes: far more than the pipe buffer holds, so the child must wait.
    const script = `for (let i = 0; i < 20000; i++) process.stdout.write(String(i).padStart(99, "0") + "\\n");`;
    const { running, lines } = run(executor(script));
    running.throttle(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const whileThrottled = lines.filter((line) => line.stream === "stdout").length;
    expect(whileThrottled).toBeLessThan(20_000);
    running.throttle(false);
    const result = await running.done;
    expect(result.exit_code).toBe(0);
    const stdout = lines.filter((line) => line.stream === "stdout").map((line) => Number(line.text));
    expect(stdout).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
  });

  it("streams every stdout and stderr line in order with its stream, and reports the exit code", async () => {
    const script = `
      const pause = (ms) => new Promise((r) => setTimeout(r, ms));
      (async () => {
        for (let i = 0; i < 3; i++) {
          process.stdout.write("out " + i + "\\n");
          await pause(30);
          process.stderr.write("err " + i + "\\n");
          await pause(30);
        }
        process.stdout.write("partial ");
        await pause(30);
        process.stdout.write("line\\nno newline at end");
        process.exitCode = 3;
      })();`;
    let startedPid: number | undefined;
    const { running, lines } = run(executor(script), { onStarted: (pid) => (startedPid = pid) });
    const result = await running.done;
    expect(startedPid).toBeTypeOf("number");
    expect(running.pid).toBe(startedPid);
    expect(lines.map((line) => `${line.stream}: ${line.text}`)).toEqual([
      "stdout: out 0",
      "stderr: err 0",
      "stdout: out 1",
      "stderr: err 1",
      "stdout: out 2",
      "stderr: err 2",
      "stdout: partial line",
      "stdout: no newline at end",
      "system: [agent] unknown: node exited with code 3",
    ]);
    expect(result.exit_code).toBe(3);
    expect(result.signal).toBeNull();
    expect(result.failure_class).toBe("unknown");
    expect(result.error?.message).toContain("exited with code 3");
    expect(result.duration_ms).toBeGreaterThan(150);
    expect(result.output).toBe("out 0\nout 1\nout 2\npartial line\nno newline at end");
  });

  it("passes the prompt as one argument, never through a shell", async () => {
    const prompt = `fix "it" $(rm -rf /) && echo 'x'; *`;
    const lines: OutputLine[] = [];
    const running = runAttempt({
      executor: executor("console.log(process.argv[1]); console.log(process.argv.length)"),
      prompt,
      cwd: process.cwd(),
      onLine: (l) => lines.push(l),
    });
    const result = await running.done;
    expect(result.exit_code).toBe(0);
    expect(lines.map((line) => line.text)).toEqual([prompt, "2"]);
    expect(commandFor({ command: ["cli", "--p={prompt}", "{prompt}"], format: "text", timeout_s: 1 }, "hi")).toEqual([
      "cli",
      "--p=hi",
      "hi",
    ]);
  });

  it("runs in the given cwd with the executor's env, without the agent's token", async () => {
    const before = process.env.MESH_AGENT_TOKEN;
    process.env.MESH_AGENT_TOKEN = "must-not-leak";
    try {
      const spec = executor(
        "console.log(process.cwd()); console.log(process.env.EXTRA); console.log(String(process.env.MESH_AGENT_TOKEN))",
        { env: { EXTRA: "from-spec" } },
      );
      const { running, lines } = run(spec, { cwd: "/tmp" });
      await running.done;
      expect(lines.map((line) => line.text)).toEqual(["/tmp", "from-spec", "undefined"]);
    } finally {
      if (before === undefined) delete process.env.MESH_AGENT_TOKEN;
      else process.env.MESH_AGENT_TOKEN = before;
    }
  });

  it("kills a child that ignores SIGTERM with SIGKILL after the grace, as a timeout", async () => {
    const script = `process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("ready"); setInterval(() => {}, 1000);`;
    const { running, lines } = run(executor(script, { timeout_s: 1 }), { killGraceMs: 300 });
    const result = await running.done;
    expect(result.failure_class).toBe("timeout");
    expect(result.signal).toBe("SIGKILL");
    expect(result.exit_code).toBeNull();
    expect(result.duration_ms).toBeGreaterThanOrEqual(1200);
    expect(result.duration_ms).toBeLessThan(4000);
    expect(result.error?.message).toContain("timed out after 1s");
    expect(lines.map((line) => line.text)).toContain("ignoring SIGTERM");
    expect(lines.some((line) => line.stream === "system" && line.text.includes("timed out"))).toBe(true);
  });

  it("notes its own stop once (the process group's note), e.g. a CLI waiting for the network", async () => {
    const script = `console.error("Reconnecting... waiting for network"); setInterval(() => {}, 1000);`;
    const { running, lines } = run(executor(script), { killGraceMs: 300 });
    const result = await running.done;
    expect(result.failure_class).toBe("network_error");
    expect(
      lines.filter((line) => line.stream === "system" && line.text.includes("waiting for the network")),
    ).toHaveLength(1);
  });

  it("cancel kills the child and its grandchild", async () => {
    const script = `
      const { spawn } = require("node:child_process");
      const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
      console.log("grandchild " + sleeper.pid);
      setInterval(() => {}, 1000);`;
    const { running, lines } = run(executor(script), { killGraceMs: 2000 });
    await waitUntil("the grandchild to start", () => lines.some((line) => line.text.startsWith("grandchild ")));
    const grandchild = Number(lines.find((line) => line.text.startsWith("grandchild "))?.text.split(" ")[1]);
    const child = running.pid as number;
    expect(isRunning(child)).toBe(true);
    expect(isRunning(grandchild)).toBe(true);
    running.stop("cancelled", "cancelled by test");
    const result = await running.done;
    expect(result.failure_class).toBe("cancelled");
    expect(result.signal).toBe("SIGTERM");
    await waitUntil("the child and grandchild to be killed", () => !isRunning(child) && !isRunning(grandchild), 2000);
  });

  it("does not wait forever for pipes a leftover grandchild holds after the child exits", async () => {
    const script = `
      const { spawn } = require("node:child_process");
      spawn("sleep", ["30"], { stdio: "inherit" });
      console.log("bye");
      process.exit(0);`;
    const { running, lines } = run(executor(script), { drainMs: 200 });
    const result = await running.done;
    expect(result.exit_code).toBe(0);
    expect(result.failure_class).toBeUndefined();
    expect(result.duration_ms).toBeLessThan(3000);
    expect(lines.map((line) => line.text)).toEqual(["bye"]);
  });

  it("reports a program that does not exist as a syntax_error naming it", async () => {
    const { running, lines } = run({ command: ["no-such-cli-xyz", "{prompt}"], format: "text", timeout_s: 5 });
    const result = await running.done;
    expect(result).toMatchObject({
      exit_code: null,
      signal: null,
      failure_class: "syntax_error",
      error: { code: "internal" },
    });
    expect(result.error?.message).toContain("'no-such-cli-xyz'");
    expect(result.error?.message).toContain("PATH");
    expect(lines).toEqual([
      expect.objectContaining({ stream: "system", text: expect.stringContaining("no-such-cli-xyz") }),
    ]);
  });

  it("reports a task cwd that does not exist without spawning", async () => {
    const { running } = run(executor("console.log(1)"), { cwd: "/no/such/dir" });
    expect(running.pid).toBeUndefined();
    const result = await running.done;
    expect(result.failure_class).toBe("syntax_error");
    expect(result.error?.message).toContain("/no/such/dir");
  });

  it("keeps only the tail of stdout as output", async () => {
    const { running } = run(executor(`for (let i = 0; i < 150; i++) console.log("line " + i)`));
    const result = await running.done;
    const output = result.output?.split("\n") ?? [];
    expect(output).toHaveLength(100);
    expect(output[0]).toBe("line 50");
    expect(output.at(-1)).toBe("line 149");
  });
});
