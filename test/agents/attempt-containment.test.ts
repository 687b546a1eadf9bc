// An attempt's whole tree ends with it (docs/containment.md): children that call `setsid` or are
// spawned detached leave the process group, and still die when the attempt ends, however it ends.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AttemptRunInput } from "../../agents/runtime/attempt-run-types.ts";
import { runAttempt } from "../../agents/runtime/attempt-runner.ts";
import type { ExecutorSpec, OutputLine } from "../../protocol/index.ts";
import { isRunning, killAll, waitUntil } from "./live-processes.ts";

const ESCAPER = join(import.meta.dirname, "../fixtures/escaping-children.mjs");
type Pids = { cli: number; setsid: number[]; detached: number[] };
const everyPid = (pids: Pids): number[] => [pids.cli, ...pids.setsid, ...pids.detached];

const leftovers: number[] = [];
afterEach(() => killAll(leftovers.splice(0)));

function start(
  setsid: number,
  detached: number,
  mode: "exit" | "hang",
  options: Partial<AttemptRunInput> = {},
  spec: Partial<ExecutorSpec> = {},
) {
  const pidFile = join(mkdtempSync(join(tmpdir(), "mesh-escape-")), "pids.json");
  const lines: OutputLine[] = [];
  const running = runAttempt({
    executor: {
      command: [process.execPath, ESCAPER, pidFile, String(setsid), String(detached), mode],
      format: "text",
      timeout_s: 30,
      ...spec,
    },
    prompt: "",
    cwd: tmpdir(),
    onLine: (line) => lines.push(line),
    killGraceMs: 500,
    drainMs: 200,
    ...options,
  });
  const pids = async (): Promise<Pids> => {
    await waitUntil("the fixture to write its pids", () => existsSync(pidFile), 10_000);
    const read = JSON.parse(readFileSync(pidFile, "utf8")) as Pids;
    leftovers.push(...everyPid(read));
    return read;
  };
  return { running, lines, pids };
}

describe.skipIf(process.platform !== "linux")("an attempt's escaped children", () => {
  it("die when the attempt succeeds: 20 setsid children and 5 detached ones, none left", async () => {
    const { running, lines, pids } = start(20, 5, "exit");
    const started = await pids();
    expect(started.setsid.every(isRunning) && started.detached.every(isRunning)).toBe(true);
    const result = await running.done;
    expect(result.failure_class).toBeUndefined();
    expect(result.exit_code).toBe(0);
    // Killed by the time the attempt's result is known: at most a zombie waits for its reaper.
    await waitUntil("every escaped child to be gone", () => everyPid(started).every((pid) => !isRunning(pid)), 2000);
    expect(
      lines.some(
        (line) =>
          line.stream === "system" && line.text.includes("killed 25 process(es) it left running, found by its cookie"),
      ),
    ).toBe(true);
  });

  it("die when the attempt is cancelled while its CLI still runs", async () => {
    const { running, pids } = start(3, 2, "hang");
    const started = await pids();
    expect(isRunning(started.cli)).toBe(true);
    running.stop("cancelled", "cancelled by the test");
    const result = await running.done;
    expect(result.failure_class).toBe("cancelled");
    await waitUntil(
      "the CLI and every escaped child to be gone",
      () => everyPid(started).every((pid) => !isRunning(pid)),
      2000,
    );
  });

  it("die when the attempt times out", async () => {
    const { running, pids } = start(2, 2, "hang", {}, { timeout_s: 1 });
    const started = await pids();
    const result = await running.done;
    expect(result.failure_class).toBe("timeout");
    await waitUntil(
      "the CLI and every escaped child to be gone",
      () => everyPid(started).every((pid) => !isRunning(pid)),
      2000,
    );
  });

  it("die with the acceptance command that started them", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "mesh-escape-accept-"));
    const pidFile = join(cwd, "acceptance-pids.json");
    const lines: OutputLine[] = [];
    const running = runAttempt({
      executor: { command: [process.execPath, "-e", "console.log('done')"], format: "text", timeout_s: 30 },
      prompt: "",
      cwd,
      acceptance: { command: `'${process.execPath}' '${ESCAPER}' '${pidFile}' 2 1 exit` },
      onLine: (line) => lines.push(line),
      drainMs: 200,
    });
    const result = await running.done;
    expect(result.failure_class).toBeUndefined();
    const started = JSON.parse(readFileSync(pidFile, "utf8")) as Pids;
    leftovers.push(...everyPid(started));
    await waitUntil(
      "the acceptance command's escaped children to be gone",
      () => everyPid(started).every((pid) => !isRunning(pid)),
      2000,
    );
  });
});
