// Task records for tests that read one (the page's models, the task's steps): a plain succeeded task
// and attempt, with what a test cares about given as fields.
import type { Attempt, TaskRecord } from "../protocol/index.ts";

/** A succeeded attempt 1 of `sonnet` on `vm-1`, costing nothing; `fields` override. */
export function attemptRecord(fields: Partial<Attempt> = {}): Attempt {
  return {
    n: 1,
    tier: "sonnet",
    executor: "claude",
    agent: "vm-1",
    status: "succeeded",
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    latency_ms: 0,
    dispatched_at: 0,
    ...fields,
  };
}

/** A succeeded `sonnet` task with no attempts; `fields` override. */
export function taskRecord(fields: Partial<TaskRecord> = {}): TaskRecord {
  return {
    task_id: "01T",
    status: "succeeded",
    instruction: "fix it",
    tier: "sonnet",
    agent_selector: { by: "any" },
    attempts: [],
    tokens: { input: 0, output: 0 },
    cost_usd: 0,
    latency_ms: 0,
    created_at: 0,
    updated_at: 0,
    ...fields,
  };
}
