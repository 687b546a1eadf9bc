import { describe, expect, it } from "vitest";
import { TaskListFeed } from "../../party/task-directory/task-list-feed.ts";
import type { TaskSummary } from "../../protocol/index.ts";

const summary = (id: string, status: TaskSummary["status"] = "queued"): TaskSummary => ({
  task_id: id,
  status,
  tier: "sonnet",
  instruction: `do ${id}`,
  created_at: 1,
  updated_at: 1,
});

describe("the task list feed", () => {
  it("gives a new subscriber the whole list, newest first", () => {
    const feed = new TaskListFeed("e1", [summary("01A"), summary("01C"), summary("01B")]);
    const [answer, ...rest] = feed.answer({ type: "tasks.subscribe" });
    expect(answer).toMatchObject({ type: "tasks.snapshot", epoch: "e1", seq: 0, part: 0, parts: 1, more: false });
    expect(answer?.tasks.map((task) => task.task_id)).toEqual(["01C", "01B", "01A"]);
    expect(rest).toEqual([]);
  });

  it("sends a long list in parts of 1,000, newest first", () => {
    const feed = new TaskListFeed(
      "e1",
      Array.from({ length: 2500 }, (_, i) => summary(`01${String(i).padStart(5, "0")}`)),
    );
    const parts = feed.answer({ type: "tasks.subscribe" });
    expect(parts.map((part) => [part.type, part.tasks.length])).toEqual([
      ["tasks.snapshot", 1000],
      ["tasks.snapshot", 1000],
      ["tasks.snapshot", 500],
    ]);
    expect(parts[0]?.tasks[0]?.task_id).toBe("0102499");
    expect(parts.at(-1)).toMatchObject({ part: 2, parts: 3 });
  });

  it("gives a returning subscriber only what changed since its seq, removals included", () => {
    const feed = new TaskListFeed("e1", [summary("01A"), summary("01B")]);
    feed.put(summary("01C"));
    const seen = feed.answer({ type: "tasks.subscribe" })[0]?.seq;
    feed.put(summary("01A", "running"));
    feed.remove("01B");
    feed.remove("01Z"); // never listed: no change
    const answer = feed.answer({ type: "tasks.subscribe", epoch: "e1", seq: seen });
    expect(answer).toEqual([
      { type: "tasks.changed", epoch: "e1", seq: 3, tasks: [summary("01A", "running")], removed: ["01B"] },
    ]);
  });

  it("gives the whole list to a subscriber of another room instance, or one ahead of this one", () => {
    const feed = new TaskListFeed("e2", [summary("01A")]);
    expect(feed.answer({ type: "tasks.subscribe", epoch: "e1", seq: 0 })[0]?.type).toBe("tasks.snapshot");
    expect(feed.answer({ type: "tasks.subscribe", epoch: "e2", seq: 7 })[0]?.type).toBe("tasks.snapshot");
  });

  it("drains the changes not yet sent as one message, each task once, then nothing", () => {
    const feed = new TaskListFeed("e1", []);
    feed.put(summary("01A"));
    feed.put(summary("01A", "running"));
    feed.put(summary("01B"));
    feed.remove("01B");
    expect(feed.drain()).toEqual({
      type: "tasks.changed",
      epoch: "e1",
      seq: 4,
      tasks: [summary("01A", "running")],
      removed: ["01B"],
    });
    expect(feed.drain()).toBeNull();
  });
});
