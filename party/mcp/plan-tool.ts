import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { MAX_PLAN_TASKS, PlanAfter, PlanKey } from "../../protocol/index.ts";
import type { MeshContext } from "../edge/mesh-operations.ts";
import { createPlan } from "../edge/task-plan.ts";
import { scheduleArgs, taskField } from "./mesh-tools.ts";
import { errorResult, valueResult } from "./tool-results.ts";
import { creating, planOutput, repoArgs } from "./tool-schemas.ts";

/** One task of a plan as the tool describes it: a key, `after` by key, and `execute`'s arguments. */
const PlanToolTask = z
  .strictObject({
    key: PlanKey.describe("a local name for this task within the plan; other tasks' after name it"),
    instruction: taskField.instruction.unwrap().describe("what the executor should do"),
    name: taskField.name.describe("a task name (unique among unfinished tasks), if it should have one"),
    executor: taskField.executor.describe(
      "tier or CLI name; default: from kind through the routing table, else the bottom of the ladder",
    ),
    cwd: taskField.cwd.describe("working directory on the agent's machine"),
    agent: taskField.agent.describe("an agent's name, or mac / vm"),
    acceptance: taskField.acceptance,
    isolation: taskField.isolation,
    base_ref: taskField.base_ref,
    ...repoArgs,
    max_cost_usd: taskField.max_cost_usd,
    ...scheduleArgs,
    after: PlanAfter.optional().describe(
      "keys of this plan's tasks (or ids/names of existing tasks) that must succeed first",
    ),
  })
  .describe("after: keys of this plan's tasks (or ids/names of existing tasks) that must succeed first");

/** MCP `plan` (docs/mcp-tools.md, docs/scheduling.md): several tasks, some after others, created all or none. */
export function registerPlanTool(server: McpServer, ctx: MeshContext): void {
  server.registerTool(
    "plan",
    {
      description:
        "Create several tasks at once, some waiting for others (after, by key): all are created or none (a cycle, an unknown key or a bad argument refuses the whole plan). " +
        "Tasks start when everything they are after succeeded; if one fails, those after it end dependency_failed. Returns the tasks and a Mermaid graph of the plan.",
      inputSchema: { tasks: z.array(PlanToolTask).min(1).max(MAX_PLAN_TASKS).describe("the tasks of the plan") },
      outputSchema: planOutput,
      annotations: creating,
    },
    async (args) => {
      const planned = await createPlan(ctx, { tasks: args.tasks });
      if (!planned.ok) return errorResult(planned.error);
      const lines = planned.value.tasks.map(
        (t, i) =>
          `${args.tasks[i]?.key ?? "?"}: task ${t.task_id} ${t.status} at ${t.tier}${t.waiting?.for === "tasks" ? `, after ${(t.waiting.ids ?? []).join(", ")}` : ""}`,
      );
      return valueResult(
        planned.value,
        [
          `created ${planned.value.tasks.length} task(s):`,
          ...lines,
          "",
          "```mermaid",
          planned.value.mermaid,
          "```",
        ].join("\n"),
      );
    },
  );
}
