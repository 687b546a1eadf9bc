import { describe, expect, it } from "vitest";
import {
  acceptanceText,
  appliedReplyText,
  applyAvailability,
  applyQuestion,
  attemptWorkText,
  diffStatText,
  refusalText,
  resultText,
  unreachableText,
} from "../../web/src/work-facts.ts";

import { attemptRecord, taskRecord } from "../task-records.ts";

const BASE = "b".repeat(40);
const COMMIT = "c".repeat(40);

const attempt = attemptRecord;

const task = taskRecord;

const succeeded = task({
  result: {
    attempt: 2,
    branch: "mesh/fix/2-codex",
    commit: COMMIT,
    base: BASE,
    diff_stat: { files: 2, insertions: 14, deletions: 3 },
  },
});

describe("an attempt's work", () => {
  it("names its branch, short commit, base and diff stat", () => {
    const text = attemptWorkText(
      attempt({
        isolation: "worktree",
        branch: "mesh/fix/1-sonnet",
        commit: COMMIT,
        base: BASE,
        diff_stat: { files: 1, insertions: 5, deletions: 0 },
      }),
    );
    expect(text).toBe(
      `worktree on mesh/fix/1-sonnet · commit ${"c".repeat(12)} · from ${"b".repeat(12)} · 1 file +5 -0`,
    );
  });

  it("says when it changed nothing, ran in place, is still working, or had its stored diff cut", () => {
    expect(
      attemptWorkText(
        attempt({ isolation: "worktree", branch: "b", diff_stat: { files: 0, insertions: 0, deletions: 0 } }),
      ),
    ).toContain("changed nothing");
    expect(attemptWorkText(attempt({ isolation: "none" }))).toMatch(/ran in place .*no diff/);
    expect(attemptWorkText(attempt({ isolation: "worktree", branch: "b", status: "running" }))).toContain("working…");
    expect(diffStatText({ files: 3, insertions: 1, deletions: 2 }, true)).toMatch(
      /^3 files \+1 -2 \(.*branch holds all of it\)$/,
    );
  });

  it("states the acceptance evidence: passed or failed, the command and its exit", () => {
    expect(acceptanceText({ command: "npm test", exit_code: 0, passed: true, output_tail: "" })).toBe(
      "acceptance passed: npm test (exit 0)",
    );
    expect(acceptanceText({ command: "npm test", exit_code: null, passed: false, output_tail: "" })).toMatch(
      /^acceptance failed: npm test \(it did not run to an exit/,
    );
  });
});

describe("the task's result and apply", () => {
  it("describes the result with its branch, commit, base and stat", () => {
    expect(resultText(succeeded)).toBe(
      `result: attempt 2 on mesh/fix/2-codex · commit ${"c".repeat(12)} from ${"b".repeat(12)} · 2 files +14 -3`,
    );
    expect(resultText(task({ status: "running" }))).toBe("no result yet (the task is running)");
    expect(resultText(task({ result: { attempt: 1 } }))).toMatch(/nothing to apply/);
  });

  it("enables apply only for a succeeded task with a commit that is not applied yet, and says why otherwise", () => {
    expect(applyAvailability(succeeded).enabled).toBe(true);
    expect(applyAvailability({ ...succeeded, applied: { commit: COMMIT, at: 1 } })).toEqual({
      enabled: false,
      note: expect.stringMatching(/^already applied .* \(commit c{12}\): applying again would change nothing$/),
    });
    expect(applyAvailability({ ...succeeded, status: "awaiting_human" })).toMatchObject({
      enabled: false,
      note: expect.stringContaining("awaiting human"),
    });
    expect(applyAvailability(task({ result: { attempt: 1 } }))).toMatchObject({
      enabled: false,
      note: expect.stringContaining("nothing to apply"),
    });
  });

  it("asks before applying, naming the branch and the checkout (or the remote's base branch) it merges into", () => {
    const local = { ...succeeded, attempts: [attempt({ n: 2, checkout: { repo: "/home/me/app", branch: "main" } })] };
    expect(applyQuestion(local)).toBe(
      "Merge mesh/fix/2-codex into branch main of /home/me/app? A fast-forward when possible, else a merge commit.",
    );
    expect(applyQuestion({ ...local, attempts: [attempt({ n: 2, checkout: { repo: "/home/me/app" } })] })).toContain(
      "into the checkout /home/me/app?",
    );
    expect(applyQuestion({ ...local, repo: "https://example.com/app.git", base_ref: "develop" })).toContain(
      "into develop on https://example.com/app.git?",
    );
  });

  it("reads the mesh's refusals (code and message), and says what to do when it is not the mesh's body", () => {
    const dirty = JSON.stringify({
      error: {
        code: "checkout_dirty",
        message: "the checkout in /r has uncommitted changes (a.txt); commit or stash them, then apply again",
      },
    });
    expect(refusalText(409, dirty)).toBe(
      "checkout_dirty: the checkout in /r has uncommitted changes (a.txt); commit or stash them, then apply again",
    );
    expect(refusalText(403, "nope")).toMatch(/fresh link/);
    expect(refusalText(502, "<html>bad gateway</html>")).toBe("the mesh answered 502: <html>bad gateway</html>");
    expect(refusalText(500, "")).toBe("the mesh answered 500");
  });

  it("reads the applied commit from apply's answer, and says so when the mesh gave no answer", () => {
    expect(appliedReplyText(JSON.stringify({ applied: { commit: COMMIT, at: 1 } }))).toMatch(
      /^Applied: your checkout is at c{12}; /,
    );
    expect(appliedReplyText("not json")).toMatch(/^Applied; /);
    // The same applied record as before the request: the mesh merged nothing this time.
    expect(appliedReplyText(JSON.stringify({ applied: { commit: COMMIT, at: 5 } }), { commit: COMMIT, at: 5 })).toMatch(
      /^Nothing changed: already applied .*\(commit c{12}\)/,
    );
    expect(appliedReplyText(JSON.stringify({ applied: { commit: COMMIT, at: 9 } }), undefined)).toMatch(/^Applied: /);
    expect(unreachableText(new TypeError("Failed to fetch"))).toMatch(/Failed to fetch.*try again/);
  });
});
