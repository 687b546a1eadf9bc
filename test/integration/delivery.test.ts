// Delivery of repo tasks (docs/delivery.md) through a real server, a real agent and real git
// servers on loopback: the result's branch pushed over git://, a draft pull request through a fake
// `gh` on the agent's PATH, a push the remote's hook refuses, and apply merging into the remote's
// main (fast-forward; a conflict changes nothing).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutorSpec, TaskView } from "../../protocol/index.ts";
import { fakeGh, lsRemote, refuseEverything } from "../agents/delivery-remotes.ts";
import { bareRepo, commitTo, type GitServer, git, gitRoot, startGitDaemon } from "./git-servers.ts";
import { FIXTURES, type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "./mesh-harness.ts";

let mesh: Mesh;
let agent: TestAgent;
let daemon: GitServer;
const root = gitRoot();
const gh = fakeGh(root.root, "opens");
const cli = (label: string, ...writes: string[]): ExecutorSpec => ({
  command: [process.execPath, join(FIXTURES, "repo-cli.mjs"), label, ...writes],
  format: "text",
  timeout_s: 60,
});
const FILES = { "README.md": "project\n", "fixed.txt": "broken\n" };
const fileUrl = (name: string): string => `file://${join(root.root, `${name}.git`)}`;

async function finished(body: Record<string, unknown>): Promise<TaskView> {
  const created = await mesh.api<TaskView>("/api/tasks", {
    method: "POST",
    body: { agent: "vm-deliver", executor: "deepseek", ...body },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const task = await mesh.finished(created.body.task_id).catch(async (error: unknown) => {
    const now = await mesh.api(`/api/tasks/${created.body.task_id}`);
    throw new Error(
      `${String(error)}\n${JSON.stringify(now.body).slice(0, 3000)}\n${agent.output.slice(-30).join("\n")}`,
    );
  });
  expect(task.status).toBe("succeeded");
  return task;
}

/** The task once its agent answered the delivery. */
async function delivered(taskId: string): Promise<TaskView> {
  return waitFor(`task ${taskId}'s delivery`, async () => {
    const { body } = await mesh.api<TaskView>(`/api/tasks/${taskId}`);
    return body.delivery !== undefined &&
      (body.delivery.remote_branch !== undefined || body.delivery.error !== undefined)
      ? body
      : undefined;
  });
}

beforeAll(async () => {
  daemon = await startGitDaemon(root.root);
  mesh = await startMesh();
  agent = await startAgent(
    mesh,
    "vm-deliver",
    { executors: { deepseek: cli("deepseek", "fixed.txt=right") } },
    { env: { ...process.env, PATH: `${gh.dir}:${process.env.PATH ?? ""}` } },
  );
}, 90_000);

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  await daemon?.stop();
  root.remove();
});

describe("delivering a repo task's result", () => {
  it("deliver push: the result's branch is on the remote (git://), named mesh/<task>/<n>-<tier>", async () => {
    bareRepo(root.root, "pushed", FILES);
    const task = await finished({
      name: "fix-pushed",
      instruction: "fix it",
      repo: daemon.url("pushed"),
      deliver: "push",
    });
    const done = await delivered(task.task_id);
    expect(done.status).toBe("succeeded");
    expect(done.delivery).toEqual({
      mode: "push",
      remote_branch: "mesh/fix-pushed/1-deepseek",
      pushed_commit: task.result?.commit,
    });
    expect(lsRemote(daemon.url("pushed"), "refs/heads/mesh/fix-pushed/1-deepseek")).toBe(task.result?.commit);
    expect(git(join(root.root, "pushed.git"), "show", "mesh/fix-pushed/1-deepseek:fixed.txt")).toBe("right");
  }, 90_000);

  it("deliver pr: pushes, then gh pr create --draft with the branch and the task's name; the task shows the PR's URL", async () => {
    bareRepo(root.root, "reviewed", FILES);
    const task = await finished({
      name: "fix-reviewed",
      instruction: "Fix the reviewed thing\nwith care",
      repo: fileUrl("reviewed"),
      deliver: "pr",
    });
    const done = await delivered(task.task_id);
    expect(done.delivery).toMatchObject({
      mode: "pr",
      remote_branch: "mesh/fix-reviewed/1-deepseek",
      pr_url: "https://github.example/acme/project/pull/7",
    });
    const args = readFileSync(gh.argsFile, "utf8").split("\n");
    expect(args).toContain("--draft");
    expect(args[args.indexOf("--head") + 1]).toBe("mesh/fix-reviewed/1-deepseek");
    expect(args[args.indexOf("--base") + 1]).toBe("main");
    expect(args[args.indexOf("--title") + 1]).toBe("fix-reviewed");
    expect(args.join("\n")).toContain("Total cost: $");
    expect(lsRemote(fileUrl("reviewed"), "refs/heads/mesh/fix-reviewed/1-deepseek")).toBe(task.result?.commit);
  }, 90_000);

  it("a push the remote's hook refuses is delivery.error push_refused with its words; the task stays succeeded, its result kept", async () => {
    bareRepo(root.root, "guarded", FILES);
    refuseEverything(join(root.root, "guarded.git"), "GUARD: pushes to this repository are closed");
    const task = await finished({
      name: "fix-guarded",
      instruction: "fix it",
      repo: fileUrl("guarded"),
      deliver: "push",
    });
    const done = await delivered(task.task_id);
    expect(done.status).toBe("succeeded");
    expect(done.result?.commit).toBe(task.result?.commit);
    expect(done.delivery?.error?.code).toBe("push_refused");
    expect(done.delivery?.error?.message).toContain("GUARD: pushes to this repository are closed");
    expect(lsRemote(fileUrl("guarded"), "refs/heads/mesh/fix-guarded/1-deepseek")).toBe("");
    // The result's diff is still served (the agent kept its branch).
    expect((await mesh.api(`/api/tasks/${task.task_id}/diff`)).status).toBe(200);
  }, 90_000);
});

describe("apply on a repo task", () => {
  it("fast-forwards main on the remote", async () => {
    bareRepo(root.root, "applied", FILES);
    const task = await finished({ name: "fix-applied", instruction: "fix it", repo: daemon.url("applied") });
    const applied = await mesh.api<TaskView>(`/api/tasks/${task.task_id}/apply`, { method: "POST", body: {} });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body.applied?.commit).toBe(task.result?.commit);
    expect(lsRemote(daemon.url("applied"), "refs/heads/main")).toBe(task.result?.commit);
  }, 90_000);

  it("a conflict with what main got meanwhile is 409 apply_conflict, changing nothing on the remote", async () => {
    bareRepo(root.root, "clash", FILES);
    const task = await finished({ name: "fix-clash", instruction: "fix it", repo: fileUrl("clash") });
    const moved = commitTo(join(root.root, "clash.git"), { "fixed.txt": "fixed another way\n" }, "someone else");
    const refused = await mesh.api<{ error: { code: string; message: string } }>(`/api/tasks/${task.task_id}/apply`, {
      method: "POST",
      body: {},
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("apply_conflict");
    expect(refused.body.error.message).toContain("fixed.txt");
    expect(lsRemote(fileUrl("clash"), "refs/heads/main")).toBe(moved);
  }, 90_000);
});
