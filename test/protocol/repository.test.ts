import { describe, expect, it } from "vitest";
import {
  CreateTaskRequest,
  redactRepoUrl,
  repoArgsProblem,
  repoUrlParts,
  repoUrlProblem,
  TaskAssign,
  TaskRecord,
} from "../../protocol/index.ts";

describe("repository URLs (docs/repositories.md)", () => {
  it("accepts https, ssh (URL and scp-like), git, file, and plain http to loopback only", () => {
    for (const url of [
      "https://github.com/o/r.git",
      "ssh://git@github.com/o/r.git",
      "git@github.com:o/r.git",
      "github.com:o/r",
      "git://127.0.0.1:9418/r.git",
      "file:///srv/git/r.git",
      "http://127.0.0.1:8080/r.git",
    ]) {
      expect(repoUrlProblem(url), url).toBeNull();
    }
  });

  it("refuses credentials in the URL, saying where credentials belong", () => {
    for (const url of [
      "https://user:token@github.com/o/r.git",
      "https://ghp_abc@github.com/o/r.git",
      "ssh://git:pw@host/r.git",
      "git:pw@host:r.git",
      "git://u@h/r",
    ]) {
      expect(repoUrlProblem(url), url).toMatch(
        /^repo: credentials in the URL would reach logs; use the agent's git credential helper, SSH agent or gh login/,
      );
    }
  });

  it("refuses other schemes, option-like strings, plain http off loopback and empty paths", () => {
    expect(repoUrlProblem("ext::sh -c evil")).toMatch(/^repo:/);
    expect(repoUrlProblem("ftp://host/r.git")).toMatch(/scheme 'ftp'/);
    expect(repoUrlProblem("--upload-pack=evil")).toMatch(/^repo:/);
    expect(repoUrlProblem("http://example.com/r.git")).toMatch(/loopback/);
    expect(repoUrlProblem("https://github.com/")).toMatch(/no repository path/);
    expect(repoUrlProblem("/srv/git/r.git")).toMatch(/not a git URL/);
  });

  it("checks repo against cwd, deliver and isolation", () => {
    expect(repoArgsProblem({ repo: "https://h/o/r", cwd: "/x" })).toMatch(/^repo: give repo or cwd, not both/);
    expect(repoArgsProblem({ deliver: "push" })).toMatch(/^deliver:/);
    expect(repoArgsProblem({ deliver: "none" })).toBeNull();
    expect(repoArgsProblem({ repo: "https://h/o/r", isolation: "none" })).toMatch(/^isolation:/);
    expect(repoArgsProblem({ repo: "https://h/o/r", deliver: "pr" })).toBeNull();
  });

  it("redacts user information and splits URLs into host and path", () => {
    expect(redactRepoUrl("https://user:token@github.com/o/r.git")).toBe("https://***@github.com/o/r.git");
    expect(redactRepoUrl("u:p@host:o/r")).toBe("***@host:o/r");
    expect(repoUrlParts("git@github.com:o/r.git")).toEqual({
      scheme: "ssh",
      host: "github.com",
      port: "",
      path: "o/r.git",
    });
    expect(repoUrlParts("git://127.0.0.1:9418/a%20b.git")).toEqual({
      scheme: "git",
      host: "127.0.0.1",
      port: "9418",
      path: "/a b.git",
    });
  });

  it("carries repo and deliver on the request, the record and task.assign", () => {
    expect(CreateTaskRequest.safeParse({ instruction: "x", repo: "https://h/o/r", deliver: "pr" }).success).toBe(true);
    expect(CreateTaskRequest.safeParse({ instruction: "x", deliver: "merge" }).success).toBe(false);
    expect(
      TaskAssign.safeParse({
        type: "task.assign",
        task_id: "t",
        attempt: 1,
        tier: "sonnet",
        prompt: "p",
        repo: "https://h/o/r",
        deliver: "push",
      }).success,
    ).toBe(true);
    const record = TaskRecord.shape.delivery.safeParse({
      mode: "push",
      remote_branch: "mesh/t/1-sonnet",
      error: { code: "push_refused", message: "protected" },
    });
    expect(record.success).toBe(true);
  });
});
