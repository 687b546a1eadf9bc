// Repositories by URL (docs/repositories.md) on a real server with real agents and real git servers
// on loopback: git://, smart HTTP and file:// clones into the agent's mirror, one fetch per task
// whatever its attempts, the repository's setup, the failures (repo_unavailable: missing, unreachable,
// refusing credentials, a missing ref; setup_failed), a
// damaged mirror cloned again, two tasks of one repository at once, and the scratch directory of a
// task naming neither cwd nor repo.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorSpec, TaskView } from "../../protocol/index.ts";
import { bareRepo, commitTo, type GitServer, git, gitRoot, startGitDaemon, startSmartHttp } from "./git-servers.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;
let daemon: GitServer;
let http: GitServer;
const root = gitRoot();
const cli = (label: string, ...writes: string[]): ExecutorSpec => ({
  command: [process.execPath, join(FIXTURES, "repo-cli.mjs"), label, ...writes],
  format: "text",
  timeout_s: 60,
});
const stateDir = (): string => join(`${mesh.persistDir}-agents`, "vm-repo");
const FILES = { "README.md": "project\n", "fixed.txt": "broken\n" };

async function create(body: Record<string, unknown>): Promise<TaskView> {
  const created = await mesh.api<TaskView>("/api/tasks", { method: "POST", body: { agent: "vm-repo", ...body } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function logText(taskId: string): Promise<string> {
  return (await mesh.api<{ lines: Array<{ text: string }> }>(`/api/tasks/${taskId}/logs`)).body.lines
    .map((l) => l.text)
    .join("\n");
}

beforeAll(async () => {
  daemon = await startGitDaemon(root.root);
  http = await startSmartHttp(root.root);
  mesh = await startMesh();
  agent = await startAgent(
    mesh,
    "vm-repo",
    {
      executors: {
        // The first tier fails acceptance; the next passes (an escalation: two attempts of one task).
        deepseek: cli("deepseek", "fixed.txt=wrong", "sleep=700"),
        "gemini-flash": cli("flash", "fixed.txt=right"),
      },
    },
    { capacity: 2 },
  );
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  await daemon?.stop();
  await http?.stop();
  root.remove();
});

describe("tasks on a repository by URL", () => {
  it("clones a git:// repository into the agent's mirror once, and fetches once per task however many attempts it takes", async () => {
    const main = bareRepo(root.root, "alpha", FILES);
    const first = await mesh.finished(
      (
        await create({
          instruction: "fix it",
          repo: daemon.url("alpha"),
          acceptance: { command: "grep -qx right fixed.txt" },
        })
      ).task_id,
    );
    expect(first.attempts.map((a) => [a.tier, a.status, a.failure_class ?? null])).toEqual([
      ["deepseek", "failed", "test_fail"],
      ["gemini-flash", "succeeded", null],
    ]);
    expect(first.repo).toBe(daemon.url("alpha"));
    expect(first.attempts.every((a) => a.base === main && a.isolation === "worktree")).toBe(true);
    // The first clone: one upload-pack session for two attempts.
    expect(daemon.fetches("alpha")).toBe(1);
    const mirror = join(stateDir(), "mirrors", `127.0.0.1_${new URL(daemon.url("alpha")).port}`, "alpha.git");
    expect(git(mirror, "rev-parse", "--is-bare-repository")).toBe("true");
    // The winner's branch is in the mirror, its commit on top of the remote's main.
    const branch = first.result?.branch ?? "";
    expect(git(mirror, "rev-parse", `${branch}^`)).toBe(main);
    expect(git(mirror, "show", `${branch}:fixed.txt`)).toBe("right");
    expect(await logText(first.task_id)).toMatch(
      /cloning git:\/\/127\.0\.0\.1:\d+\/alpha\.git into the agent's mirror/,
    );

    // New work on the remote: the next task fetches it (one more session) and starts from it.
    const next = commitTo(join(root.root, "alpha.git"), { "more.txt": "more\n" }, "more");
    const second = await mesh.finished(
      (
        await create({
          instruction: "fix it again",
          repo: daemon.url("alpha"),
          acceptance: { command: "grep -qx right fixed.txt" },
        })
      ).task_id,
    );
    expect(second.status).toBe("succeeded");
    expect(second.attempts.length).toBe(2);
    expect(second.attempts[0]?.base).toBe(next);
    expect(daemon.fetches("alpha")).toBe(2);
    // The first task's result branch survived the second task's fetch (--prune touches only origin/*).
    expect(git(mirror, "rev-parse", branch)).toBe(first.result?.commit);
  }, 120_000);

  it("clones over smart HTTP and from file://, at a base_ref branch or tag", async () => {
    bareRepo(root.root, "beta", FILES);
    const dev = commitTo(join(root.root, "beta.git"), { "dev.txt": "dev\n" }, "dev work", "dev");
    const task = await mesh.finished(
      (await create({ instruction: "x", executor: "gemini-flash", repo: http.url("beta"), base_ref: "dev" })).task_id,
    );
    expect(task.status).toBe("succeeded");
    expect(task.attempts[0]?.base).toBe(dev);
    expect(http.fetches("beta")).toBe(1);
    expect(await logText(task.task_id)).toMatch(/flash: saw .*dev\.txt/);

    const gamma = bareRepo(root.root, "gamma", FILES);
    git(join(root.root, "gamma.git"), "tag", "v1", gamma);
    const local = await mesh.finished(
      (
        await create({
          instruction: "x",
          executor: "gemini-flash",
          repo: `file://${join(root.root, "gamma.git")}`,
          base_ref: "v1",
        })
      ).task_id,
    );
    expect(local.status).toBe("succeeded");
    expect(local.attempts[0]?.base).toBe(gamma);
  }, 90_000);

  it("fails repo_unavailable, once and naming the URL, for a missing repository or a missing ref", async () => {
    const missing = await mesh.finished((await create({ instruction: "x", repo: daemon.url("no-such-repo") })).task_id);
    expect(missing.status).toBe("failed");
    expect(missing.attempts.length).toBe(1);
    expect(missing.attempts[0]?.failure_class).toBe("repo_unavailable");
    expect(missing.error?.message).toContain(daemon.url("no-such-repo"));

    // A closed port (unreachable), and a server that wants credentials the agent does not have: git never waits on a
    // prompt.
    const closed = await mesh.finished(
      (await create({ instruction: "x", repo: "git://127.0.0.1:1/nothing.git" })).task_id,
    );
    expect(closed.attempts.map((a) => a.failure_class)).toEqual(["repo_unavailable"]);
    expect(closed.error?.message).toMatch(
      /^could not clone git:\/\/127\.0\.0\.1:1\/nothing\.git \(git: .*\)\. Check the URL/,
    );
    bareRepo(root.root, "private", FILES);
    const locked = await startSmartHttp(root.root, { basicAuth: "someone:secret" });
    try {
      const denied = await mesh.finished((await create({ instruction: "x", repo: locked.url("private") })).task_id);
      expect(denied.attempts.map((a) => a.failure_class)).toEqual(["repo_unavailable"]);
      expect(denied.error?.message).toContain(locked.url("private"));
    } finally {
      await locked.stop();
    }

    bareRepo(root.root, "delta", FILES);
    const noRef = await mesh.finished(
      (await create({ instruction: "x", repo: daemon.url("delta"), base_ref: "no-such-branch" })).task_id,
    );
    expect(noRef.attempts.map((a) => a.failure_class)).toEqual(["repo_unavailable"]);
    expect(noRef.error?.message).toMatch(/base_ref 'no-such-branch' is not a branch, tag or commit of git:\/\//);
  }, 60_000);

  it("refuses at the edge a URL with credentials, another scheme, and repo with cwd", async () => {
    const withToken = await mesh.api("/api/tasks", {
      method: "POST",
      body: { instruction: "x", repo: "https://user:secret-token@github.com/o/r.git" },
    });
    expect(withToken.status).toBe(400);
    expect(withToken.body.error?.message).toMatch(
      /^repo: credentials in the URL would reach logs; use the agent's git credential helper, SSH agent or gh login/,
    );
    expect(JSON.stringify(withToken.body)).not.toContain("secret-token");
    const ext = await mesh.api("/api/tasks", {
      method: "POST",
      body: { instruction: "x", repo: "ext::sh -c touch% /tmp/pwned" },
    });
    expect(ext.status).toBe(400);
    const both = await mesh.api("/api/tasks", {
      method: "POST",
      body: { instruction: "x", repo: daemon.url("alpha"), cwd: "/tmp" },
    });
    expect(both.status).toBe(400);
    expect(both.body.error?.message).toMatch(/^repo: give repo or cwd, not both/);
    const deliverAlone = await mesh.api("/api/tasks", { method: "POST", body: { instruction: "x", deliver: "push" } });
    expect(deliverAlone.status).toBe(400);
  });

  it("clones a mirror again whose objects were deleted between tasks", async () => {
    bareRepo(root.root, "epsilon", FILES);
    const url = `file://${join(root.root, "epsilon.git")}`;
    expect(
      (await mesh.finished((await create({ instruction: "x", executor: "gemini-flash", repo: url })).task_id)).status,
    ).toBe("succeeded");
    const mirror = join(stateDir(), "mirrors", "file", ...root.root.split("/").filter((s) => s !== ""), "epsilon.git");
    rmSync(join(mirror, "objects"), { recursive: true, force: true });
    const again = await mesh.finished(
      (await create({ instruction: "x", executor: "gemini-flash", repo: url })).task_id,
    );
    expect(again.status).toBe("succeeded");
    expect(await logText(again.task_id)).toMatch(/is not a usable git directory .*: moving it aside and cloning again/);
    expect(git(mirror, "rev-parse", "--is-bare-repository")).toBe("true");
  }, 60_000);

  it("runs the repository's .agent-mesh/setup before the CLI, and fails the attempt setup_failed when it exits non-zero", async () => {
    bareRepo(root.root, "zeta", {
      ...FILES,
      ".agent-mesh/setup": "#!/bin/sh\necho setting up in $PWD\necho made > setup-made.txt\n",
    });
    const ok = await mesh.finished(
      (await create({ instruction: "x", executor: "gemini-flash", repo: daemon.url("zeta") })).task_id,
    );
    expect(ok.status).toBe("succeeded");
    const log = await logText(ok.task_id);
    expect(log).toMatch(/setting up in \S+/);
    expect(log).toMatch(/flash: saw .*setup-made\.txt/);

    bareRepo(root.root, "eta", {
      ...FILES,
      ".agent-mesh/setup": "#!/bin/sh\necho cannot install dependencies >&2\nexit 3\n",
    });
    const failed = await mesh.finished((await create({ instruction: "x", repo: daemon.url("eta") })).task_id);
    expect(failed.status).toBe("failed");
    // Infrastructure: no escalation to the next tier.
    expect(failed.attempts.map((a) => a.failure_class)).toEqual(["setup_failed"]);
    expect(failed.error?.message).toMatch(/\.agent-mesh\/setup exited 3[\s\S]*cannot install dependencies/);
    expect(await logText(failed.task_id)).not.toMatch(/deepseek: cwd=/);
  }, 60_000);

  it("stops a setup that is cancelled, and never starts the CLI", async () => {
    bareRepo(root.root, "iota", { ...FILES, ".agent-mesh/setup": "#!/bin/sh\necho installing\nsleep 30\n" });
    const task = await create({ instruction: "x", executor: "gemini-flash", repo: daemon.url("iota") });
    await waitFor("the setup to run", async () => /installing/.test(await logText(task.task_id)), 30_000);
    expect((await mesh.api(`/api/tasks/${task.task_id}/cancel`, { method: "POST" })).status).toBe(200);
    const ended = await mesh.finished(task.task_id, 20_000);
    expect(ended.status).toBe("cancelled");
    const attempt = await waitFor(
      "the attempt to end",
      async () =>
        (await mesh.task(task.task_id)).attempts.find((a) => a.status !== "running" && a.status !== "dispatched"),
      20_000,
    );
    expect(attempt.status).toBe("cancelled");
    expect(await logText(task.task_id)).not.toMatch(/flash: cwd=/);
  }, 60_000);

  it("runs two tasks of one repository at once on one agent, sharing its mirror", async () => {
    bareRepo(root.root, "theta", FILES);
    const [a, b] = await Promise.all([
      create({ instruction: "a", executor: "deepseek", repo: daemon.url("theta") }),
      create({ instruction: "b", executor: "deepseek", repo: daemon.url("theta") }),
    ]);
    const done = await Promise.all([mesh.finished(a.task_id), mesh.finished(b.task_id)]);
    expect(done.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    // One clone (under the mirror's lock), then the other task's fetch.
    expect(daemon.fetches("theta")).toBe(2);
  }, 60_000);

  it("runs a task with neither cwd nor repo in a new empty directory of its own, removed when it ends", async () => {
    const task = await mesh.finished((await create({ instruction: "x", executor: "gemini-flash" })).task_id);
    expect(task.status).toBe("succeeded");
    const cwd = /flash: cwd=(\S+)/.exec(await logText(task.task_id))?.[1] ?? "";
    expect(cwd).toBe(join(stateDir(), "scratch", task.task_id));
    expect(await logText(task.task_id)).toMatch(/flash: saw nothing/);
    await waitFor("the task's scratch directory to go", () => !existsSync(cwd), 15_000);
    expect(readdirSync(join(stateDir(), "scratch"))).not.toContain(task.task_id);
  }, 60_000);
});
