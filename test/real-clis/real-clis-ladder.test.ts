// The real CLIs on the mesh's ladder, against the scripted model server (docs/real-clis.md): codex's
// edit fails the task's acceptance check and claude, the next tier, passes with the evidence of that
// failure in its prompt; claude fails at the top tier served and two real CLIs (claude and codex) run
// as consensus candidates; claude, fed big streamed usage, is stopped at the task's max_cost_usd
// before the script's end. One mesh and one agent serve all three.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView } from "../../protocol/index.ts";
import { waitFor } from "../integration/mesh-harness.ts";
import type { LoggedRequest } from "../model-server/model-server.ts";
import { readEditThenSay, type Turn, writeThenSay } from "../model-server/scripted-turns.ts";
import { cliProcesses, type ScriptedMesh, startScriptedMesh, unexpectedOutbound } from "./scripted-mesh.ts";

const EVIDENCE = "Earlier attempts at this task did not pass";
let scripted: ScriptedMesh;

beforeAll(async () => {
  scripted = await startScriptedMesh({ agentName: "vm-ladder", turns: [{ text: "No script for this request." }] });
});

afterAll(async () => {
  await scripted?.stop();
});

/** Runs a task to its end; returns it and the model requests made meanwhile. */
async function run(body: Record<string, unknown>): Promise<{ task: TaskView; requests: LoggedRequest[] }> {
  const before = scripted.server.requests.length;
  const created = await scripted.mesh.api<TaskView>("/api/tasks", {
    method: "POST",
    body: { agent: scripted.agentName, cwd: scripted.repo, ...body },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const task = await scripted.mesh.finished(created.body.task_id, 150_000);
  const requests = scripted.server.requests.slice(before);
  console.log(
    `${String(body.name)}: ${task.status}${task.error === undefined ? "" : ` ${task.error.code}: ${task.error.message}`}; attempts ${JSON.stringify(task.attempts.map((a) => [a.n, a.tier, a.executor, a.status, a.failure_class, a.cost_usd]))}; requests ${JSON.stringify(requests.map((r) => `${r.api ?? r.method} ${r.answered}`))}`,
  );
  if (task.status !== "succeeded") console.log(scripted.agentOutput.slice(-30).join("\n"));
  return { task, requests };
}

describe("the real CLIs on the ladder", () => {
  it("escalation: codex's edit fails acceptance, claude (the next tier) edits with the evidence in its prompt and passes", async () => {
    scripted.server.scripts = [
      {
        api: "responses",
        turns: readEditThenSay("README.md", "A user's project.\n", "A user's project, edited badly.\n"),
      },
      {
        api: "anthropic",
        turns: readEditThenSay("README.md", "A user's project.\n", "A user's project, edited well.\n"),
      },
    ];
    const { task, requests } = await run({
      name: "real-escalation",
      instruction: "Say in README.md that it was edited well.",
      executor: "codex",
      acceptance: { command: "grep -q 'edited well' README.md" },
    });

    expect(task.attempts.map((a) => [a.tier, a.executor, a.status, a.failure_class])).toEqual([
      ["codex", "codex", "failed", "test_fail"],
      ["sonnet", "claude", "succeeded", undefined],
    ]);
    expect(task.status).toBe("succeeded");
    const [first, second] = task.attempts;
    expect(first?.changed_files).toEqual(["README.md"]);
    expect(first?.acceptance).toMatchObject({
      command: "grep -q 'edited well' README.md",
      passed: false,
      exit_code: 1,
    });
    expect(second?.acceptance).toMatchObject({ passed: true, exit_code: 0 });
    // claude's requests carried the evidence of codex's failure: its class, the check and its diff.
    const claudeAsked = requests.filter((request) => request.api === "anthropic" && request.answered !== "side");
    expect(claudeAsked.map((request) => request.answered)).toEqual(["read README.md", "edit README.md", "text"]);
    for (const request of claudeAsked) {
      expect(request.prompt).toContain(EVIDENCE);
      expect(request.prompt).toContain("Attempt 1 (codex, codex): failed, test_fail");
      expect(request.prompt).toContain("Acceptance check `grep -q 'edited well' README.md` exited 1 (failed)");
      expect(request.prompt).toContain("+A user's project, edited badly.");
    }
    // codex saw no evidence: it was the first attempt.
    expect(
      requests.filter((request) => request.api === "responses").every((request) => !request.prompt.includes(EVIDENCE)),
    ).toBe(true);
    const diff = await scripted.mesh.api<string>(`/api/tasks/${task.task_id}/diff`);
    expect(diff.body).toContain("+A user's project, edited well.");
    expect(diff.body).not.toContain("edited badly");
    expect(unexpectedOutbound(requests, "claude")).toEqual([]);
  });

  it("consensus: claude fails at the top tier served, then claude and codex run as two candidates and one wins", async () => {
    scripted.server.scripts = [
      { api: "anthropic", prompt: EVIDENCE, turns: writeThenSay("answer.txt", "agreed\n") },
      { api: "anthropic", turns: writeThenSay("answer.txt", "wrong\n") },
      { api: "responses", turns: writeThenSay("answer.txt", "agreed\n") },
    ];
    const { task, requests } = await run({
      name: "real-consensus",
      instruction: "Write answer.txt saying agreed.",
      executor: "sonnet",
      acceptance: { command: "grep -qx agreed answer.txt" },
    });

    expect(task.attempts.map((a) => [a.n, a.tier, a.executor, a.role ?? "sequential", a.status])).toEqual([
      [1, "sonnet", "claude", "sequential", "failed"],
      [2, "sonnet", "claude", "consensus", "succeeded"],
      [3, "codex", "codex", "consensus", "succeeded"],
    ]);
    expect(task.status).toBe("succeeded");
    expect(task.consensus?.winner === 2 || task.consensus?.winner === 3).toBe(true);
    expect(task.consensus?.reasons.length).toBeGreaterThan(0);
    // Both candidates were told what attempt 1 did.
    const candidatesAsked = requests.filter(
      (request) =>
        request.api !== undefined && request.answered.startsWith("write") && request.prompt.includes(EVIDENCE),
    );
    expect(new Set(candidatesAsked.map((request) => request.api))).toEqual(new Set(["anthropic", "responses"]));
    const diff = await scripted.mesh.api<string>(`/api/tasks/${task.task_id}/diff`);
    expect(diff.body).toContain("+agreed");
  });

  it("cap: claude's streamed usage passes the task's max_cost_usd and the attempt ends budget_exceeded before the script's end", async () => {
    const big = { input: 100_000, output: 1_000 };
    const turns: Turn[] = [
      ...Array.from({ length: 8 }, (_, i) => ({
        write: { path: `step-${i + 1}.txt`, content: `step ${i + 1}\n` },
        usage: big,
      })),
      { text: "All steps written.", usage: big },
    ];
    scripted.server.scripts = [{ api: "anthropic", turns }];
    const { task, requests } = await run({
      name: "real-cap",
      instruction: "Write the eight step files.",
      executor: "sonnet",
      max_cost_usd: 0.5,
    });

    const claudeAsked = requests.filter((request) => request.api === "anthropic" && request.answered !== "side");
    expect(task.status).toBe("failed");
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]?.failure_class).toBe("budget_exceeded");
    // Stopped at $0.315 a message: long before the ninth, final answer.
    expect(claudeAsked.length).toBeLessThan(turns.length);
    expect(claudeAsked.map((request) => request.answered)).not.toContain("text");
    const stoppedBy = (await scripted.logs(task.task_id))
      .map((line) => line.text)
      .filter((text) => /past the task's cap|max_budget|budget/i.test(text));
    console.log(
      `cap: ${claudeAsked.length} of ${turns.length} answers served, cost $${task.attempts[0]?.cost_usd}; ${JSON.stringify(stoppedBy)}`,
    );
    expect(task.attempts[0]?.cost_usd).toBeGreaterThan(0.5);
  });

  it("leaves no process of theirs behind", async () => {
    await waitFor("every CLI process to be gone", () => cliProcesses().length === 0, 15_000);
  });
});
