// Sessions that move between machines (docs/sessions.md), with the real claude, codex and opencode: attempt 1 runs on
// agent A; A goes away; a person's retry with guidance runs on agent B, whose HOME (and CODEX_HOME, and opencode's
// database under HOME) is another folder. B continues A's CLI session: the scripted model server sees the first
// attempt's messages in B's first request, and answers the turn that follows them.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopGroup } from "../../launcher/dev-server.ts";
import type { ExecutorsFile, ExecutorTier, TaskView } from "../../protocol/index.ts";
import { type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "../integration/mesh-harness.ts";
import { type ModelServer, servedUsage, startModelServer } from "../model-server/model-server.ts";
import { installClis } from "./install-clis.ts";
import { scriptedExecutors } from "./scripted-cli-setup.ts";
import { cliAgentEnv, scriptedFolders } from "./scripted-mesh.ts";

const FIRST = "first.txt";
const SECOND = "second.txt";
const INSTRUCTION = "Write first.txt, the handoff proof.";
const GUIDANCE = "Now also write second.txt.";

let server: ModelServer;
let mesh: Mesh;
let root: string;
let repo: string;
const running: TestAgent[] = [];

/** One machine serving one tier: its own HOME, and its own CLI config (codex's CODEX_HOME) under it. */
function machine(name: string, tier: ExecutorTier): { home: string; executors: ExecutorsFile } {
  const home = join(root, name, "home");
  const config = join(root, name, "config");
  mkdirSync(home, { recursive: true });
  mkdirSync(config, { recursive: true });
  const all = scriptedExecutors(server.url, config, home).executors;
  return { home, executors: { executors: { [tier]: all[tier] } } };
}

async function start(name: string, setup: { home: string; executors: ExecutorsFile }): Promise<TestAgent> {
  const agent = await startAgent(mesh, name, setup.executors, { env: cliAgentEnv(setup.home) });
  running.push(agent);
  return agent;
}

async function stop(agent: TestAgent): Promise<void> {
  await agent.stop();
  running.splice(running.indexOf(agent), 1);
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

beforeAll(async () => {
  installClis();
  ({ root, repo } = scriptedFolders("mesh-handoff-"));
  server = await startModelServer({ turns: [] });
  // No consensus tier is served: a failed acceptance at the top goes to a person, who retries.
  mesh = await startMesh({ MESH_CONSENSUS_TIERS: "gemini-pro" });
});

afterAll(async () => {
  for (const agent of [...running]) await agent.stop();
  await mesh?.stop();
  await server?.stop();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe("a CLI session moves to another agent with a person's retry", () => {
  it.each([
    // Where B keeps the restored session: claude's transcript and codex's rollout by the session's id, opencode's
    // database.
    {
      cli: "claude",
      tier: "sonnet" as const,
      restored: (files: string[], id: string) =>
        files.filter((path) => path.startsWith("home/.claude/projects/") && path.endsWith(`/${id}.jsonl`)),
    },
    {
      cli: "codex",
      tier: "codex" as const,
      restored: (files: string[], id: string) =>
        files.filter((path) => path.startsWith("config/codex-home/sessions/") && path.endsWith(`-${id}.jsonl`)),
    },
    {
      cli: "opencode",
      tier: "deepseek" as const,
      restored: (files: string[]) => files.filter((path) => path === "home/.local/share/opencode/opencode.db"),
    },
  ])(
    "$cli: agent B, with another HOME, resumes agent A's session and the model sees attempt 1's messages",
    async ({ cli, tier, restored }) => {
      const a = machine(`${cli}-a`, tier);
      const b = machine(`${cli}-b`, tier);
      // Attempt 1 writes first.txt and stops; the acceptance wants second.txt, so a person is asked.
      server.turns = [{ write: { path: FIRST, content: "one\n" } }, { text: "Wrote first.txt." }];
      const agentA = await start(`vm-${cli}-a`, a);
      const created = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: {
          instruction: INSTRUCTION,
          executor: tier,
          cwd: repo,
          acceptance: { command: `test -f ${FIRST} && test -f ${SECOND}` },
        },
      });
      expect(created.status).toBe(201);
      const id = created.body.task_id;
      const waiting = await waitFor(
        "attempt 1 to go to a person",
        async () => {
          const task = await mesh.task(id);
          return task.status === "awaiting_human" ? task : null;
        },
        90_000,
      ).catch(async (error: unknown) => {
        console.log(`${cli}: ${JSON.stringify(await mesh.task(id))}\n${agentA.output.slice(-30).join("\n")}`);
        throw error;
      });
      expect(waiting.attempts[0]).toMatchObject({ agent: `vm-${cli}-a`, executor: cli, failure_class: "test_fail" });
      const sessionId = waiting.attempts[0]?.session_id;
      expect(sessionId).toBeDefined();

      // A goes away; B comes, its HOME holding no session of anyone's.
      await stop(agentA);
      const agentB = await start(`vm-${cli}-b`, b);
      const machineB = join(root, `${cli}-b`);
      expect(
        filesUnder(machineB).filter((path) => path.includes(sessionId ?? "?") || path.endsWith("opencode.db")),
      ).toEqual([]);

      // Continued, the conversation already holds one tool result: the next turn writes second.txt.
      // Started fresh, it would hold none and be answered with first.txt again.
      server.turns = [
        { write: { path: FIRST, content: "one\n" } },
        { write: { path: SECOND, content: "two\n" } },
        { text: "Wrote second.txt." },
      ];
      const before = server.requests.length;
      const retried = await mesh.api<TaskView>(`/api/tasks/${id}/resolve`, {
        method: "POST",
        body: { decision: "retry", guidance: GUIDANCE },
      });
      expect(retried.status).toBe(200);
      const task = await mesh.finished(id, 90_000);
      const requests = server.requests
        .slice(before)
        .filter((r) => r.answered !== "side" && r.answered !== "health" && r.method === "POST");
      const logs = await mesh.api<{ lines: Array<{ text: string; attempt: number }> }>(`/api/tasks/${id}/logs`);
      const notes = logs.body.lines.filter((l) => l.text.includes("session")).map((l) => `#${l.attempt} ${l.text}`);
      console.log(
        `${cli}: ${task.status}; attempt 2 ${JSON.stringify(task.attempts[1])}\nrequests on B: ${JSON.stringify(requests.map((r) => ({ answered: r.answered, messages: r.messages, prompt: r.prompt.slice(0, 400) })))}\nsession lines:\n${notes.join("\n")}`,
      );

      expect(task.attempts[1]).toMatchObject({
        role: "retry",
        agent: `vm-${cli}-b`,
        resumed_from: 1,
        session_id: sessionId,
      });
      // B's first request carries attempt 1's messages: its instruction, the file it wrote, then the guidance.
      const first = requests[0];
      expect(first?.answered).toBe(`write ${SECOND}`);
      expect(first?.prompt).toContain(INSTRUCTION);
      expect(first?.prompt).toContain(GUIDANCE);
      expect(first?.messages).toBeGreaterThanOrEqual(3);
      expect(requests.map((r) => r.answered)).not.toContain(`write ${FIRST}`);
      // codex states the whole thread's usage: the resumed attempt counts only what B's requests were served.
      if (cli === "codex") expect(task.attempts[1]?.tokens).toEqual(servedUsage(requests));
      // The session was restored into B's own HOME, for B's worktree.
      expect(restored(filesUnder(machineB), sessionId ?? "?")).toHaveLength(1);
      // Attempt 1's change came along (applied to B's new worktree), and B's own followed it.
      expect(task.status).toBe("succeeded");
      const diff = await mesh.api<string>(`/api/tasks/${id}/diff`);
      expect(diff.body).toContain(`+++ b/${FIRST}`);
      expect(diff.body).toContain(`+++ b/${SECOND}`);
      await stop(agentB);
      // opencode starts slowly on a fresh HOME (seconds a command), and its export and import are commands too.
    },
    240_000,
  );
});

describe("a CLI session moves to another agent with the retry after agent_lost", () => {
  it("claude: agent A stops mid-run (SIGTERM); its attempt ends agent_lost with its session and work sent, and B continues them", async () => {
    const a = machine("lost-a", "sonnet");
    const b = machine("lost-b", "sonnet");
    // Attempt 1 writes first.txt, then its next answer streams slowly: A is stopped during it.
    server.turns = [{ write: { path: FIRST, content: "one\n" } }, { text: "Still thinking about it.", delayMs: 3000 }];
    const agentA = await start("vm-lost-a", a);
    const before = server.requests.length;
    const created = await mesh.api<TaskView>("/api/tasks", {
      method: "POST",
      body: {
        instruction: INSTRUCTION,
        executor: "sonnet",
        cwd: repo,
        acceptance: { command: `test -f ${FIRST} && test -f ${SECOND}` },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.task_id;
    await waitFor(
      "A's CLI to ask for the slow answer",
      () => server.requests.slice(before).some((r) => r.answered === "text"),
      90_000,
    );
    // B is answered as a continuation: one tool result in the conversation already, so second.txt next.
    server.turns = [
      { write: { path: FIRST, content: "one\n" } },
      { write: { path: SECOND, content: "two\n" } },
      { text: "Wrote second.txt." },
    ];
    // B is online before A goes: the retry is offered to an agent other than the lost one while one serves.
    await start("vm-lost-b", b);
    const atB = server.requests.length;
    // The grace covers the CLI's own stop (SIGTERM, then SIGKILL after 5 s), the commit and the report.
    await stopGroup(agentA.process, 30_000);
    await stop(agentA);
    const lost = await waitFor(
      "attempt 1 to end agent_lost",
      async () => {
        const task = await mesh.task(id);
        return task.attempts[0]?.failure_class === "agent_lost" ? task : null;
      },
      60_000,
    );
    expect(lost.attempts[0]?.session_id).toBeDefined();
    const task = await mesh.finished(id, 90_000);
    const requests = server.requests.slice(atB).filter((r) => r.method === "POST" && r.answered !== "side");
    const logs = await mesh.api<{ lines: Array<{ text: string; attempt: number }> }>(`/api/tasks/${id}/logs`);
    console.log(
      `agent_lost: ${task.status}; attempts ${JSON.stringify(task.attempts.map((t) => ({ n: t.n, agent: t.agent, status: t.status, failure_class: t.failure_class, resumed_from: t.resumed_from })))}\nrequests on B: ${JSON.stringify(requests.map((r) => ({ answered: r.answered, messages: r.messages, prompt: r.prompt.slice(-300) })))}\nsession lines:\n${logs.body.lines
        .filter((l) => l.text.includes("session"))
        .map((l) => `#${l.attempt} ${l.text}`)
        .join("\n")}`,
    );

    expect(task.attempts[1]).toMatchObject({
      agent: "vm-lost-b",
      resumed_from: 1,
      session_id: lost.attempts[0]?.session_id,
    });
    expect(requests[0]?.answered).toBe(`write ${SECOND}`);
    expect(requests[0]?.prompt).toContain(INSTRUCTION);
    expect(requests[0]?.prompt).toContain("Your previous run was interrupted");
    expect(task.status).toBe("succeeded");
    const diff = await mesh.api<string>(`/api/tasks/${id}/diff`);
    expect(diff.body).toContain(`+++ b/${FIRST}`);
    expect(diff.body).toContain(`+++ b/${SECOND}`);
  }, 240_000);
});
