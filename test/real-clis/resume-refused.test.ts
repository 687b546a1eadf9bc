// The real claude, a resume it refuses, and a person's guidance (docs/resume.md): through a real mesh
// and agent, against the scripted model server. Attempt 1 fails its check; one served consensus tier
// sends the task to a person; claude's session file is then removed, so the person's retry, which
// resumes it, is refused ("No conversation found"); the agent runs claude again fresh on the same
// attempt, and the model server sees the guidance and the earlier attempt's evidence in its prompt.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandFor } from "../../agents/runtime/attempt-command.ts";
import { resumeRefusal } from "../../agents/runtime/resume-refusal.ts";
import type { ExecutorTier, TaskView } from "../../protocol/index.ts";
import { type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "../integration/mesh-harness.ts";
import { type ModelServer, startModelServer } from "../model-server/model-server.ts";
import { writeThenSay } from "../model-server/scripted-turns.ts";
import { CLI_BIN, installClis } from "./install-clis.ts";
import { scriptedExecutors } from "./scripted-cli-setup.ts";
import { cliAgentEnv, scriptedFolders } from "./scripted-mesh.ts";

const PROOF = "mesh-proof.txt";
const GUIDANCE = "GUIDED-7c1: keep mesh-proof.txt to one line";
const AGENT = "vm-claude-refused";

let server: ModelServer;
let mesh: Mesh;
let agent: TestAgent | undefined;
let root: string;
let home: string;
let repo: string;
let executors: ReturnType<typeof scriptedExecutors>["executors"];

beforeAll(async () => {
  installClis();
  let config: string;
  ({ root, home, config, repo } = scriptedFolders("mesh-claude-refused-"));
  server = await startModelServer({ turns: writeThenSay(PROOF, "one line\n") });
  executors = scriptedExecutors(server.url, config, home).executors;
  const sonnet = executors.sonnet;
  if (sonnet === undefined) throw new Error("no sonnet executor");
  mesh = await startMesh();
  agent = await startAgent(mesh, AGENT, { executors: { sonnet } }, { env: cliAgentEnv(home) });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  await server?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe("real claude: a person's retry whose session is gone", () => {
  it("runs fresh on the same attempt, and the model sees the guidance and the evidence", async () => {
    // The check fails the first time it runs and passes after: attempt 1 fails, the retry can pass.
    const counter = join(root, "checks");
    const acceptance = {
      command: `n=$(cat '${counter}' 2>/dev/null || echo 0); echo $((n+1)) > '${counter}'; test "$n" -ge 1`,
    };
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: { instruction: `Write ${PROOF}.`, executor: "sonnet", agent: AGENT, cwd: repo, acceptance },
    });
    expect(created.status).toBe(201);
    const taskId = created.body.task_id;
    const waiting = await waitFor(
      "the task to wait for a person",
      async () => {
        const task = await mesh.task(taskId);
        if (task.status === "failed")
          throw new Error(
            `attempt 1 failed: ${task.error?.message ?? ""}\n${agent?.output.slice(-30).join("\n") ?? ""}`,
          );
        return task.status === "awaiting_human" ? task : null;
      },
      90_000,
    );
    expect(waiting.attempts).toHaveLength(1);
    expect(waiting.attempts[0]).toMatchObject({ executor: "claude", failure_class: "test_fail" });
    const session = waiting.attempts[0]?.session_id;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    expect(waiting.human?.reason).toContain("consensus needs 2 candidates");

    // claude keeps its transcripts under $HOME/.claude/projects: without them it cannot resume.
    const projects = join(home, ".claude", "projects");
    expect(existsSync(projects)).toBe(true);
    rmSync(projects, { recursive: true, force: true });
    const before = server.requests.length;
    const retried = await mesh.api<TaskView>(`/api/tasks/${taskId}/resolve`, {
      method: "POST",
      body: { decision: "retry", guidance: GUIDANCE },
    });
    expect(retried.status).toBe(200);
    const task = await mesh.finished(taskId, 90_000);
    const requests = server.requests.slice(before);
    console.log(
      `claude resume refused: ${task.status}; requests ${JSON.stringify(requests.map((r) => `${r.method} ${r.path} ${r.answered}`))}`,
    );

    expect(task.status).toBe("succeeded");
    expect(task.attempts[1]).toMatchObject({
      n: 2,
      role: "retry",
      executor: "claude",
      resume_refused: 1,
      status: "succeeded",
    });
    expect(task.attempts[1]?.resumed_from).toBeUndefined();
    expect(task.attempts[1]?.session_id).not.toBe(session);
    const logs = await mesh.api<{ lines: Array<{ text: string; attempt: number; stream: string }> }>(
      `/api/tasks/${taskId}/logs`,
    );
    const system = logs.body.lines
      .filter((line) => line.attempt === 2 && line.stream === "system")
      .map((line) => line.text);
    expect(
      system.some(
        (text) => text.includes(`refused to resume session ${session ?? ""}`) && text.includes("No conversation found"),
      ),
    ).toBe(true);

    // The fresh run's first model request carries the person's words and attempt 1's evidence.
    const asked = requests.filter(
      (request) => request.path.includes("/messages") && request.answered === `write ${PROOF}`,
    );
    expect(asked.length).toBeGreaterThan(0);
    expect(asked[0]?.prompt).toContain(`Guidance from a person: ${GUIDANCE}`);
    expect(asked[0]?.prompt).toContain("Attempt 1 (sonnet, claude): failed, test_fail");
    const diff = await mesh.api<string>(`/api/tasks/${taskId}/diff`);
    expect(diff.body).toContain(`+++ b/${PROOF}`);
  });
});

describe("each real CLI's words for a session it does not have", () => {
  // The shipped executors' own `resume` arguments, a made-up session, a fresh HOME: the refusal must
  // be one of our signatures, or an upgrade changed the words and the mesh would class it `unknown`.
  it.each([
    { tier: "sonnet", cli: "claude", session: "3f1c2b9e-1111-4222-8333-444455556666" },
    { tier: "codex", cli: "codex", session: "3f1c2b9e-1111-4222-8333-444455556666" },
    { tier: "deepseek", cli: "opencode", session: "ses_0000000000000000000000000000" },
  ] as Array<{ tier: ExecutorTier; cli: string; session: string }>)(
    "$cli refuses it in words we know",
    ({ tier, cli, session }) => {
      const executor = executors[tier];
      if (executor === undefined) throw new Error(`no ${tier} executor`);
      const fresh = mkdtempSync(join(root, `home-${tier}-`));
      const [program, ...args] = commandFor(executor, "Continue.", undefined, session);
      const run = spawnSync(join(CLI_BIN, program ?? ""), args, {
        cwd: repo,
        encoding: "utf8",
        timeout: 90_000,
        env: { PATH: `${CLI_BIN}:${process.env.PATH ?? ""}`, HOME: fresh, ...executor.env },
      });
      console.log(
        `${tier}: resuming a missing session exits ${run.status}; stderr ${JSON.stringify(run.stderr.slice(0, 300))}`,
      );
      const seen = resumeRefusal({ exitCode: run.status, stderr: run.stderr, stdout: run.stdout });
      expect(seen, `${program} exited ${run.status}: ${run.stderr.slice(0, 500)}`).toBeDefined();
      // In words we know from this CLI, not another's that happened to match.
      expect(seen?.signature.seenIn).toMatch(new RegExp(`^${cli} `));
    },
  );
});
