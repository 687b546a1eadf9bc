import { describe, expect, it } from "vitest";
import type { TaskSummary } from "../../protocol/index.ts";
import { rowWindow, scrollToShow } from "../../web/src/row-window.ts";
import { TaskListModel } from "../../web/src/task-list-model.ts";

const task = (id: string, status: TaskSummary["status"], instruction = `task ${id}`, name?: string): TaskSummary => ({
  task_id: id,
  status,
  tier: "sonnet",
  instruction,
  ...(name === undefined ? {} : { name }),
  created_at: 1,
  updated_at: 1,
});

describe("the dashboard's task list", () => {
  it("puts tasks waiting for a person on top, then the newest first", () => {
    const model = new TaskListModel();
    model.apply({
      type: "tasks.snapshot",
      epoch: "e",
      seq: 3,
      part: 0,
      parts: 1,
      more: false,
      tasks: [task("01A", "succeeded"), task("01B", "awaiting_human"), task("01C", "running"), task("01D", "queued")],
    });
    expect(model.rows({ status: "all", search: "" }).map((row) => row.task_id)).toEqual(["01B", "01D", "01C", "01A"]);
  });

  it("filters by status and searches every word in the name, id or instruction", () => {
    const model = new TaskListModel();
    model.apply({
      type: "tasks.snapshot",
      epoch: "e",
      seq: 1,
      part: 0,
      parts: 1,
      more: false,
      tasks: [
        task("01A", "failed", "Fix the login page"),
        task("01B", "succeeded", "fix the parser", "parser-fix"),
        task("01C", "failed", "write docs"),
      ],
    });
    expect(model.rows({ status: "failed", search: "" }).map((row) => row.task_id)).toEqual(["01C", "01A"]);
    expect(model.rows({ status: "all", search: "FIX" }).map((row) => row.task_id)).toEqual(["01B", "01A"]);
    expect(model.rows({ status: "all", search: "fix  login" }).map((row) => row.task_id)).toEqual(["01A"]);
    expect(model.rows({ status: "all", search: "parser-fix" }).map((row) => row.task_id)).toEqual(["01B"]);
    expect(model.rows({ status: "succeeded", search: "docs" })).toEqual([]);
    expect(model.counts().get("failed")).toBe(2);
  });

  it("applies changes and removals, remembers where the feed is, and starts afresh on a snapshot", () => {
    const model = new TaskListModel();
    model.apply({
      type: "tasks.snapshot",
      epoch: "e1",
      seq: 2,
      part: 0,
      parts: 1,
      more: false,
      tasks: [task("01A", "queued"), task("01B", "queued")],
    });
    model.apply({
      type: "tasks.changed",
      epoch: "e1",
      seq: 4,
      tasks: [task("01A", "running"), task("01C", "queued")],
      removed: ["01B"],
    });
    expect(model.rows({ status: "all", search: "" }).map((row) => `${row.task_id} ${row.status}`)).toEqual([
      "01C queued",
      "01A running",
    ]);
    expect([model.epoch, model.seq]).toEqual(["e1", 4]);
    // A snapshot in two parts: the list is replaced at the first, and the feed's place known only at the last.
    model.apply({
      type: "tasks.snapshot",
      epoch: "e2",
      seq: 0,
      part: 0,
      parts: 2,
      more: true,
      tasks: [task("01Z", "queued")],
    });
    expect(model.size).toBe(1);
    expect(model.more).toBe(true);
    expect(model.epoch).toBeUndefined();
    model.apply({
      type: "tasks.snapshot",
      epoch: "e2",
      seq: 0,
      part: 1,
      parts: 2,
      more: true,
      tasks: [task("01Y", "queued")],
    });
    expect([model.size, model.epoch, model.seq]).toEqual([2, "e2", 0]);
    expect(model.apply({ type: "error", code: "bad_json", message: "x" })).toBe(false);
  });

  it("filters and searches 10,000 tasks", () => {
    const model = new TaskListModel();
    const tasks = Array.from({ length: 10_000 }, (_, i) =>
      task(`01${String(i).padStart(8, "0")}`, i % 7 === 0 ? "failed" : "succeeded", `instruction number ${i}`),
    );
    model.apply({ type: "tasks.snapshot", epoch: "e", seq: 0, part: 0, parts: 1, more: false, tasks });
    expect(model.rows({ status: "failed", search: "number 7" }).length).toBeGreaterThan(0);
    expect(model.rows({ status: "all", search: "" })).toHaveLength(10_000);
  });
});

describe("the rows in view of a virtualised list", () => {
  it("are those the viewport covers, plus the overscan, within the list", () => {
    expect(rowWindow(0, 400, 40, 10_000, 5)).toEqual({ start: 0, end: 16 });
    expect(rowWindow(4000, 400, 40, 10_000, 5)).toEqual({ start: 95, end: 116 });
    expect(rowWindow(400_000, 400, 40, 10_000, 5)).toEqual({ start: 9994, end: 10_000 });
    expect(rowWindow(0, 400, 40, 0)).toEqual({ start: 0, end: 0 });
  });

  it("scroll as little as needed to show a row", () => {
    expect(scrollToShow(5, 0, 400, 40)).toBe(0);
    expect(scrollToShow(10, 0, 400, 40)).toBe(40);
    expect(scrollToShow(2, 200, 400, 40)).toBe(80);
  });
});
