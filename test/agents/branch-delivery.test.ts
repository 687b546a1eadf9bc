// Delivery on real git (docs/delivery.md): pushes to bare remotes over file:// and git daemon, a
// remote that refuses, a draft pull request through a fake `gh`, and apply merging into the remote.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deliverBranch, pushCommit } from "../../agents/runtime/branch-delivery.ts";
import { repoSlugOf } from "../../agents/runtime/pull-request.ts";
import { applyToRemote } from "../../agents/runtime/remote-apply.ts";
import { DeliveryOutcome } from "../../protocol/index.ts";
import { startGitDaemon } from "../integration/git-servers.ts";
import { tempDirs } from "../temp-dirs.ts";
import { attemptCommit, fakeGh, git, lsRemote, refuseEverything, remoteAndMirror } from "./delivery-remotes.ts";

// Made before the hook below, so removed after it has stopped the git daemons (after-hooks run
// last-registered first).
const temp = tempDirs();
const stops: Array<() => Promise<void>> = [];
const originalPath = process.env.PATH;
afterEach(async () => {
  process.env.PATH = originalPath;
  for (const stop of stops.splice(0)) await stop();
});

function setUp(): { root: string; remote: string; mirror: string; url: string } {
  const root = temp("mesh-deliver-");
  const { remote, mirror } = remoteAndMirror(root);
  return { root, remote, mirror, url: `file://${remote}` };
}

const BRANCH = "mesh/fix-it/1-haiku";

describe("pushing an attempt's branch", () => {
  it("pushes the commit from the mirror over file:// as mesh/<task>/<n>-<tier>, and again is a no-op", async () => {
    const { root, mirror, url } = setUp();
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const pushed = await pushCommit({ source: mirror, url, commit: sha, branch: BRANCH });
    expect(pushed).toEqual({ ok: true, value: { branch: BRANCH, commit: sha } });
    expect(lsRemote(url, `refs/heads/${BRANCH}`)).toBe(sha);
    expect((await pushCommit({ source: mirror, url, commit: sha, branch: BRANCH })).ok).toBe(true);
  });

  it("pushes over git daemon on loopback", async () => {
    const { root, mirror } = setUp();
    const daemon = await startGitDaemon(root);
    stops.push(() => daemon.stop());
    const url = daemon.url("project");
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const outcome = await deliverBranch({
      task_id: "01T",
      attempt: 1,
      mode: "push",
      repo: url,
      source: mirror,
      commit: sha,
      remote_branch: BRANCH,
    });
    expect(outcome).toEqual({ ok: true, remote_branch: BRANCH, pushed_commit: sha });
    expect(DeliveryOutcome.safeParse(outcome).success).toBe(true);
    expect(lsRemote(url, `refs/heads/${BRANCH}`)).toBe(sha);
  });

  it("a pre-receive hook's refusal is push_refused with the hook's words; the local branch stays", async () => {
    const { root, remote, mirror, url } = setUp();
    refuseEverything(remote, "GL-HOOK-ERR: mesh/* branches are protected here");
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const outcome = await deliverBranch({
      task_id: "01T",
      attempt: 1,
      mode: "push",
      repo: url,
      source: mirror,
      commit: sha,
      remote_branch: BRANCH,
    });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.code).toBe("push_refused");
    expect(outcome.message).toContain("GL-HOOK-ERR: mesh/* branches are protected here");
    expect(lsRemote(url, `refs/heads/${BRANCH}`)).toBe("");
    expect(git(mirror, "rev-parse", BRANCH)).toBe(sha);
  });

  it("a branch of that name holding other work is push_refused (non-fast-forward, denyNonFastForwards)", async () => {
    const { root, remote, mirror, url } = setUp();
    git(remote, "config", "receive.denyNonFastForwards", "true");
    const first = attemptCommit(mirror, root, BRANCH, "b.txt", "first\n");
    expect((await pushCommit({ source: mirror, url, commit: first, branch: BRANCH })).ok).toBe(true);
    const other = attemptCommit(mirror, root, "mesh/fix-it/2-sonnet", "b.txt", "other\n");
    const refused = await pushCommit({ source: mirror, url, commit: other, branch: BRANCH });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe("push_refused");
    expect(refused.error.message).toMatch(/non-fast-forward|fetch first|rejected/);
    expect(lsRemote(url, `refs/heads/${BRANCH}`)).toBe(first);
  });

  it("a repository that is not there is repo_unavailable, naming it without credentials", async () => {
    const { root, mirror } = setUp();
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const refused = await pushCommit({
      source: mirror,
      url: `https://bob:s3cret@127.0.0.1:9/none.git`,
      commit: sha,
      branch: BRANCH,
    });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe("repo_unavailable");
    expect(refused.error.message).not.toContain("s3cret");
    expect(refused.error.message).toContain("127.0.0.1:9/none.git");
  });
});

describe("a draft pull request", () => {
  it("pushes, then runs gh pr create --draft with the branch, base, title and body, and reads the URL", async () => {
    const { root, mirror, url } = setUp();
    const gh = fakeGh(root, "opens");
    process.env.PATH = `${gh.dir}:${originalPath ?? ""}`;
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const outcome = await deliverBranch({
      task_id: "01T",
      attempt: 1,
      mode: "pr",
      repo: url,
      source: mirror,
      commit: sha,
      remote_branch: BRANCH,
      pull_request: { title: "Fix the parser", body: "attempt 1 haiku" },
    });
    expect(outcome).toEqual({
      ok: true,
      remote_branch: BRANCH,
      pushed_commit: sha,
      pr_url: "https://github.example/acme/project/pull/7",
    });
    const args = readFileSync(gh.argsFile, "utf8").split("\n");
    expect(args.slice(0, 3)).toEqual(["pr", "create", "--draft"]);
    expect(args[args.indexOf("--head") + 1]).toBe(BRANCH);
    expect(args[args.indexOf("--base") + 1]).toBe("main");
    expect(args[args.indexOf("--title") + 1]).toBe("Fix the parser");
    expect(lsRemote(url, `refs/heads/${BRANCH}`)).toBe(sha);
  });

  it("gh failing is pr_failed with gh's words and `gh auth login`; the pushed branch is kept in the outcome", async () => {
    const { root, mirror, url } = setUp();
    process.env.PATH = `${fakeGh(root, "not-logged-in").dir}:${originalPath ?? ""}`;
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const outcome = await deliverBranch({
      task_id: "01T",
      attempt: 1,
      mode: "pr",
      repo: url,
      source: mirror,
      commit: sha,
      remote_branch: BRANCH,
      base_ref: "main",
      pull_request: { title: "t", body: "" },
    });
    expect(outcome).toMatchObject({ ok: false, code: "pr_failed", remote_branch: BRANCH, pushed_commit: sha });
    if (outcome.ok) return;
    expect(outcome.message).toContain("To get started with GitHub CLI");
    expect(outcome.message).toContain("gh auth login");
  });

  it("gh missing is pr_failed saying to install it", async () => {
    const { root, mirror, url } = setUp();
    const bin = join(root, "only-git");
    mkdirSync(bin);
    symlinkSync(execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim(), join(bin, "git"));
    process.env.PATH = bin;
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const outcome = await deliverBranch({
      task_id: "01T",
      attempt: 1,
      mode: "pr",
      repo: url,
      source: mirror,
      commit: sha,
      remote_branch: BRANCH,
      base_ref: "main",
      pull_request: { title: "t", body: "" },
    });
    expect(outcome).toMatchObject({ ok: false, code: "pr_failed", remote_branch: BRANCH });
    if (outcome.ok) return;
    expect(outcome.message).toContain("not installed");
  });

  it("names the repository for gh from https, ssh and scp-like URLs", () => {
    expect(repoSlugOf("https://github.com/acme/project.git")).toBe("acme/project");
    expect(repoSlugOf("git@github.com:acme/project.git")).toBe("acme/project");
    expect(repoSlugOf("ssh://git@github.com/acme/project")).toBe("acme/project");
    expect(repoSlugOf("https://ghe.example.com/acme/project")).toBe("ghe.example.com/acme/project");
    expect(repoSlugOf("file:///tmp/project.git")).toBeUndefined();
  });
});

describe("apply on a repo task: merging into base_ref on the remote", () => {
  it("fast-forwards main on the remote; a second apply is already applied", async () => {
    const { root, mirror, url } = setUp();
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const outcome = await applyToRemote({ source: mirror, url, commit: sha, branch: BRANCH, baseRef: "main" });
    expect(outcome).toEqual({ ok: true, commit: sha, fast_forward: true, already_applied: false });
    expect(lsRemote(url, "refs/heads/main")).toBe(sha);
    expect(await applyToRemote({ source: mirror, url, commit: sha, branch: BRANCH })).toMatchObject({
      ok: true,
      already_applied: true,
    });
    expect(git(mirror, "for-each-ref", "refs/agent-mesh")).toBe("");
  });

  it("makes a merge commit when main moved on without conflict", async () => {
    const { root, remote, mirror, url } = setUp();
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    const moved = attemptCommit(mirror, root, "elsewhere", "c.txt", "someone else\n");
    git(mirror, "push", "-q", url, `${moved}:refs/heads/main`);
    const outcome = await applyToRemote({ source: mirror, url, commit: sha, branch: BRANCH, baseRef: "main" });
    expect(outcome).toMatchObject({ ok: true, fast_forward: false, already_applied: false });
    const main = lsRemote(url, "refs/heads/main");
    expect(git(remote, "rev-list", "--parents", "-n", "1", main).split(" ")).toEqual([main, moved, sha]);
  });

  it("a conflict is apply_conflict naming the file, changing nothing on the remote", async () => {
    const { root, mirror, url } = setUp();
    const sha = attemptCommit(mirror, root, BRANCH, "a.txt", "mine\n");
    const moved = attemptCommit(mirror, root, "elsewhere", "a.txt", "theirs\n");
    git(mirror, "push", "-q", url, `${moved}:refs/heads/main`);
    const outcome = await applyToRemote({ source: mirror, url, commit: sha, branch: BRANCH, baseRef: "main" });
    expect(outcome).toMatchObject({ ok: false, code: "apply_conflict", files: ["a.txt"] });
    expect(lsRemote(url, "refs/heads/main")).toBe(moved);
    expect(git(mirror, "worktree", "list").split("\n")).toHaveLength(1);
  });

  it("a remote that refuses is push_refused with its words, changing nothing", async () => {
    const { root, remote, mirror, url } = setUp();
    const before = lsRemote(url, "refs/heads/main");
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    refuseEverything(remote, "main is protected: use a pull request");
    const outcome = await applyToRemote({ source: mirror, url, commit: sha, branch: BRANCH, baseRef: "main" });
    expect(outcome).toMatchObject({ ok: false, code: "push_refused" });
    if (outcome.ok) return;
    expect(outcome.message).toContain("main is protected: use a pull request");
    expect(lsRemote(url, "refs/heads/main")).toBe(before);
    expect(existsSync(remote)).toBe(true);
  });

  it("a base_ref that is not a branch of the remote is wrong_branch", async () => {
    const { root, mirror, url } = setUp();
    const sha = attemptCommit(mirror, root, BRANCH, "b.txt", "new\n");
    expect(await applyToRemote({ source: mirror, url, commit: sha, branch: BRANCH, baseRef: "v9" })).toMatchObject({
      ok: false,
      code: "wrong_branch",
    });
  });
});
