import { z } from "zod";
import {
  AgentRevoked,
  AgentsReply,
  BudgetStatus,
  CreateTaskRequest,
  LogsReply,
  PlanReply,
  TaskListReply,
  TaskView,
} from "../../protocol/index.ts";

// What each tool returns in `structuredContent`, declared as its `outputSchema` (docs/mcp-tools.md):
// clients validate it and can rely on the fields. Errors are `isError` results with `{error}`, which
// the MCP spec leaves outside the output schema.

export const taskOutput = TaskView.shape;
export const tasksOutput = TaskListReply.shape;
export const logsOutput = LogsReply.shape;
export const agentsOutput = AgentsReply.shape;
export const budgetOutput = BudgetStatus.shape;
export const revokeOutput = AgentRevoked.shape;
export const diffOutput = { diff: z.string() };
export const planOutput = PlanReply.shape;

/** The spec's hints: reading tools change nothing; cancel and revoke end work for good. */
export const readOnly = { readOnlyHint: true, destructiveHint: false, openWorldHint: false } as const;
export const destructive = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: false,
} as const;
/** Creating tasks runs coding CLIs on other machines: not read-only, not destructive of what exists, open world. */
export const creating = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
} as const;

/**
 * A task's repository by URL and its delivery (docs/repositories.md): plain here, checked with every other way of
 * creating a task by the edge's `routeOf`.
 */
export const repoArgs = {
  repo: CreateTaskRequest.shape.repo.describe(
    "a git URL (https, ssh, git@host:path, git, file) the agent clones into its own mirror, instead of cwd; credentials stay on the agent (its credential helper, SSH agent, gh login), never in the URL",
  ),
  deliver: CreateTaskRequest.shape.deliver.describe(
    "for a repo task: none (default), push (push the result's branch to repo), or pr (push and open a draft pull request)",
  ),
};
