// The cap an attempt runs under comes with the room's acceptance (docs/costs.md): it replaces the
// assignment's max_cost_usd, falls back to it from a server that grants none, and the exit carries
// over_cap. The agent's session runs the codex stand-in; the test plays the task room.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAttemptSession } from "../../agents/runtime/attempt-session.ts";
import { RateTable } from "../../agents/runtime/cost-rates.ts";
import { plainSupervisor } from "../../agents/runtime/process-limits.ts";
import type { AttemptCap, ExecutorSpec, TaskAssign } from "../../protocol/index.ts";
import { memoryTransports } from "./memory-transport.ts";

/** $0.08 a turn at these rates (10,000 input and 1,000 output tokens at $5 / $30 per million). */
const codexTurns: ExecutorSpec = {
  command: [
    process.execPath,
    join(import.meta.dirname, "../fixtures/cost-codex-turns.mjs"),
    "-m",
    "gpt-5.5",
    "{prompt}",
  ],
  format: "codex-jsonl",
  timeout_s: 30,
};
const rates = new RateTable({ models: { "gpt-5.5": { input: 5, output: 30 } } });

const waitFor = async (check: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

async function runSession(prompt: string, assignCap: number | undefined, granted: AttemptCap | undefined) {
  const assign: TaskAssign = {
    type: "task.assign",
    task_id: "01COSTCAP",
    attempt: 1,
    tier: "codex",
    prompt,
    ...(assignCap === undefined ? {} : { max_cost_usd: assignCap }),
  };
  const transports = memoryTransports();
  const session = startAttemptSession({
    assign,
    executor: codexTurns,
    agent: "vm-1",
    server: new URL("http://mesh.test:1999"),
    token: "t",
    workdir: tmpdir(),
    supervisor: plainSupervisor("test"),
    rates,
    log: () => {},
    openTransport: transports.open,
  });
  await waitFor(() => transports.all.length > 0);
  const room = transports.last();
  room.open();
  room.receive({
    type: "attempt.accepted",
    attempt: 1,
    next_line: 0,
    ...(granted === undefined ? {} : { cap: granted }),
  });
  await waitFor(() => room.sentOf("attempt.exit").length > 0);
  const exit = room.sentOf("attempt.exit")[0];
  if (exit === undefined) throw new Error("no exit");
  room.receive({
    type: "attempt.closed",
    attempt: 1,
    status: exit.failure_class === undefined ? "succeeded" : "failed",
  });
  await session.done;
  return { exit, lines: room.sentOf("log.batch").flatMap((batch) => batch.lines.map((line) => line.text)) };
}

describe("the cap from the room's acceptance", () => {
  it("replaces the assignment's: a run within the assignment's $1 but past the granted $0.10 is stopped, naming the task's cap", async () => {
    const { exit, lines } = await runSession("turns=6 pause=50", 1, { usd: 0.1, of: "task" });
    expect(exit.failure_class).toBe("budget_exceeded");
    expect(lines.filter((text) => text.includes("stopping it"))).toEqual([
      "[agent] the attempt has cost $0.1600, past the task's cap of $0.1000 (max_cost_usd); stopping it",
    ]);
  }, 30_000);

  it("falls back to the assignment's max_cost_usd when the acceptance grants none", async () => {
    const { exit, lines } = await runSession("turns=6 pause=50", 0.1, undefined);
    expect(exit.failure_class).toBe("budget_exceeded");
    expect(lines).toContain("[agent] the attempt has cost $0.1600, past its assigned cap of $0.1000; stopping it");
  }, 30_000);

  it("sends over_cap on attempt.exit for a cost that passed the daily halt's share only at the end", async () => {
    const { exit, lines } = await runSession("turns=1", undefined, { usd: 0.05, of: "daily_halt" });
    expect(exit.failure_class).toBeUndefined();
    expect(exit.over_cap).toBe(true);
    expect(exit.cost_usd).toBeCloseTo(0.08, 10);
    expect(lines).toContain(
      "[agent] the CLI reported its cost $0.0800 only at its end, past its share of the daily halt, $0.0500; the result is kept, the excess counts toward the daily halt",
    );
  }, 30_000);
});
