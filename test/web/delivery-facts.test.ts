// A repo task's delivery on the task page and in the MCP result's text (docs/delivery.md).
import { describe, expect, it } from "vitest";
import { taskResult } from "../../party/mcp/tool-results.ts";
import type { TaskRecord, TaskView } from "../../protocol/index.ts";
import { appliedText, applyAvailability, deliveryFacts } from "../../web/src/work-facts.ts";
import { taskRecord } from "../task-records.ts";

const COMMIT = "c".repeat(40);
const REPO = "https://github.com/acme/project.git";

function task(fields: Partial<TaskRecord> = {}): TaskRecord {
  return taskRecord({
    repo: REPO,
    deliver: "pr",
    result: { attempt: 1, branch: "mesh/fix/1-sonnet", commit: COMMIT },
    ...fields,
  });
}

describe("a repo task's delivery, in words", () => {
  it("shows the pushed branch and the pull request's link", () => {
    expect(
      deliveryFacts(
        task({
          delivery: {
            mode: "pr",
            remote_branch: "mesh/fix/1-sonnet",
            pushed_commit: COMMIT,
            pr_url: "https://github.com/acme/project/pull/7",
          },
        }),
      ),
    ).toEqual({
      text: `pushed mesh/fix/1-sonnet (${"c".repeat(12)})`,
      prUrl: "https://github.com/acme/project/pull/7",
    });
  });

  it("shows the remote's refusal, says it is on its way before the answer, and nothing for a task that does not deliver", () => {
    expect(
      deliveryFacts(task({ delivery: { mode: "push", error: { code: "push_refused", message: "remote: protected" } } }))
        ?.text,
    ).toBe("not delivered (push_refused): remote: protected");
    expect(deliveryFacts(task())?.text).toMatch(/^delivering: pushing mesh\/fix\/1-sonnet, then a draft pull request/);
    expect(deliveryFacts(task({ deliver: "none" }))).toBeNull();
    expect(deliveryFacts(task({ repo: undefined, deliver: undefined }))).toBeNull();
  });

  it("never links a pull request address that is not http(s)", () => {
    expect(
      deliveryFacts(task({ delivery: { mode: "pr", remote_branch: "b", pr_url: "javascript:alert(1)" } }))?.prUrl,
    ).toBeUndefined();
  });

  it("apply on a repo task says it merges on the remote", () => {
    expect(applyAvailability(task()).note).toContain("on the remote");
    expect(appliedText(task({ applied: { commit: COMMIT, at: 0 } }))).toContain("the remote's base branch is at");
  });

  it("the MCP result's text names the pushed branch and the pull request", () => {
    const view: TaskView = {
      ...task({
        delivery: {
          mode: "pr",
          remote_branch: "mesh/fix/1-sonnet",
          pushed_commit: COMMIT,
          pr_url: "https://github.com/acme/project/pull/7",
        },
      }),
      watch_url: "http://mesh/#task=01T",
    } as TaskView;
    const text = String(
      taskResult(view).content[0]?.type === "text" ? (taskResult(view).content[0] as { text: string }).text : "",
    );
    expect(text).toContain("delivery (pr): pushed branch mesh/fix/1-sonnet");
    expect(text).toContain("draft pull request https://github.com/acme/project/pull/7");
  });
});
