import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import {
  CreateTaskRequest,
  FINISHED_TASK_STATUSES,
  MAX_LOG_READ,
  ResolveDecision,
  TaskStatus,
} from "../../protocol/index.ts";
import { getBudget, listAgents, revokeAgent } from "../edge/mesh-admin-operations.ts";
import {
  cancelTask,
  getLogs,
  getTask,
  listQueued,
  listTasks,
  type MeshContext,
  resolveTaskDecision,
} from "../edge/mesh-operations.ts";
import { createTask } from "../edge/task-creation.ts";
import { type Progress, waitForTask } from "./task-waiter.ts";
import { errorResult, taskResult, valueResult } from "./tool-results.ts";
import {
  agentsOutput,
  budgetOutput,
  creating,
  destructive,
  logsOutput,
  readOnly,
  repoArgs,
  revokeOutput,
  taskOutput,
  tasksOutput,
} from "./tool-schemas.ts";

/** Default wait of `execute`: under the 60 s request timeout most MCP clients use, even without progress resets. */
const EXECUTE_DEFAULT_WAIT_S = 50;

/** What the SDK hands a tool's callback beside its arguments. */
type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Sends progress notifications when the client asked for them (it passed a progress token). */
function progressSender(extra: ToolExtra): (progress: Progress) => Promise<void> {
  const token = extra._meta?.progressToken;
  return async (progress) => {
    if (token === undefined) return;
    await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, ...progress } });
  };
}

export const taskRef = {
  name: z.string().min(1).optional().describe("the task's name (give this or task_id)"),
  task_id: z.string().min(1).optional().describe("the task's id, a ULID (give this or name)"),
};

/** The task a `name` / `task_id` pair names, or the error that says which argument is missing. */
export function refOf(args: { name?: string | undefined; task_id?: string | undefined }): string | CallToolResult {
  const ref = args.task_id ?? args.name;
  return ref === undefined
    ? errorResult({ code: "bad_request", message: "name or task_id: give one of them to say which task" })
    : ref;
}

/**
 * The fields of `POST /api/tasks` (protocol/task-request.ts): the task-creating tools take these very
 * schemas, described for the tool, so a limit changed there holds here too.
 */
export const taskField = CreateTaskRequest.shape;

/** Where attempts run and what they start from (docs/work-isolation.md). */
const isolationArgs = {
  isolation: taskField.isolation.describe(
    "worktree (default inside a git repository: each attempt in its own git worktree and branch) or none (run in cwd in place)",
  ),
  base_ref: taskField.base_ref.describe(
    "the commit-ish every attempt starts from; default the checkout's HEAD when the first attempt starts (for a repo task: a branch, tag or sha on the remote, default its default branch)",
  ),
  max_cost_usd: taskField.max_cost_usd.describe(
    "a hard cap in US dollars over all the task's attempts; past it the task waits for a person",
  ),
};

/** Scheduling (docs/scheduling.md): priority, prerequisites, queue timeout, and the kind routing reads. */
export const scheduleArgs = {
  priority: taskField.priority.describe("0-9, higher runs first (default 5)"),
  after: taskField.after.describe(
    "ids or names of tasks that must all succeed first; this task waits (and reserves nothing) until then",
  ),
  queue_timeout_s: taskField.queue_timeout_s.describe(
    "seconds an attempt may wait while no agent serves its tier before it fails as no_agent (default 600)",
  ),
  kind: taskField.kind.describe(
    "docs, tests, bugfix, refactor, feature, ...: picks the starting tier through the routing table when executor is not given",
  ),
  notify: taskField.notify.describe(
    "also send task.succeeded / task.failed to the mesh's webhooks when it ends (MESH_WEBHOOK_URLS; a task waiting for a person is always announced)",
  ),
};

/** Registers the mesh's tools (docs/mcp-tools.md) on a fresh server. */
export function registerMeshTools(server: McpServer, ctx: MeshContext): void {
  server.registerTool(
    "execute",
    {
      outputSchema: taskOutput,
      annotations: creating,
      description:
        "Run an instruction as a task on an agent: creates it, dispatches it at the chosen tier, and waits up to wait_s seconds " +
        "(sending progress notifications with the newest output lines). Returns the task; if it is still running, call `result` later.",
      inputSchema: {
        instruction: taskField.instruction.unwrap().describe("what the executor should do"),
        name: taskField.name.describe(
          "a name for the task, unique among unfinished tasks, so result, logs and cancel can name it; a named task takes dispatch's defaults (tier sonnet, a Mac agent when one is connected) where executor and agent say nothing",
        ),
        executor: taskField.executor.describe(
          "tier to start at (deepseek, gemini-flash, gemini-pro, codex, sonnet, opus) or a CLI name (claude, codex, gemini, opencode); default: the bottom of the ladder",
        ),
        cwd: taskField.cwd.describe("working directory on the agent's machine"),
        agent: taskField.agent.describe("an agent's name, or mac / vm for any agent of that kind"),
        acceptance: taskField.acceptance.describe(
          "checks a successful run must pass: a shell command (exit 0 accepts) and the paths it may change",
        ),
        ...isolationArgs,
        ...repoArgs,
        ...scheduleArgs,
        wait_s: taskField.wait_s.describe(`seconds to wait for the task to finish (default ${EXECUTE_DEFAULT_WAIT_S})`),
      },
    },
    async (args, extra) => {
      const { wait_s: _wait, ...request } = args;
      const created = await createTask(ctx, request);
      if (!created.ok) return errorResult(created.error);
      const waited = await waitForTask(
        ctx,
        created.value.task_id,
        args.wait_s ?? EXECUTE_DEFAULT_WAIT_S,
        progressSender(extra),
        extra.signal,
      );
      if (!waited.ok) return errorResult(waited.error);
      const done = FINISHED_TASK_STATUSES.includes(waited.value.status);
      return taskResult(
        waited.value,
        done
          ? undefined
          : `still ${waited.value.status}: call result with task_id ${waited.value.task_id} to wait for the end`,
      );
    },
  );

  server.registerTool(
    "dispatch",
    {
      outputSchema: taskOutput,
      annotations: creating,
      description:
        "Start a named task and return at once (by default at tier sonnet, on a Mac agent when one is connected). A name held by an unfinished task is refused.",
      inputSchema: {
        name: taskField.name.unwrap().describe("a name for the task, unique among unfinished tasks"),
        prompt: taskField.prompt.unwrap().describe("what the executor should do"),
        cwd: taskField.cwd.describe(
          "working directory on the agent's machine (or give repo; with neither, a new empty directory)",
        ),
        agent: taskField.agent.describe("an agent's name, or mac / vm"),
        executor: taskField.executor.describe("tier id or CLI name; default sonnet"),
        ...isolationArgs,
        ...repoArgs,
        ...scheduleArgs,
      },
    },
    async (args) => {
      const created = await createTask(ctx, args);
      return created.ok
        ? taskResult(created.value, `dispatched: call result with name ${args.name}`)
        : errorResult(created.error);
    },
  );

  server.registerTool(
    "result",
    {
      outputSchema: taskOutput,
      annotations: readOnly,
      description:
        "The task by name or id, with its final output once done; waits up to wait_s seconds for it to finish (default 0), with progress notifications.",
      inputSchema: { ...taskRef, wait_s: taskField.wait_s.describe("seconds to wait for the end (default 0)") },
    },
    async (args, extra) => {
      const ref = refOf(args);
      if (typeof ref !== "string") return ref;
      const found = await getTask(ctx, ref);
      if (!found.ok) return errorResult(found.error);
      const waited =
        (args.wait_s ?? 0) > 0
          ? await waitForTask(ctx, found.value.task_id, args.wait_s ?? 0, progressSender(extra), extra.signal)
          : found;
      return waited.ok ? taskResult(waited.value) : errorResult(waited.error);
    },
  );

  server.registerTool(
    "list_tasks",
    {
      outputSchema: tasksOutput,
      annotations: readOnly,
      description:
        "Recent tasks, newest first; with status queued, in the order they will be served, each with its queue position (tasks waiting for other tasks come last, without one).",
      inputSchema: {
        status: TaskStatus.optional().describe("only tasks in this status"),
        limit: z.number().int().min(1).max(500).optional().describe("how many (default 50)"),
      },
    },
    async (args) => {
      const listed =
        args.status === "queued" ? await listQueued(ctx, args.limit) : await listTasks(ctx, args.status, args.limit);
      if (!listed.ok) return errorResult(listed.error);
      const text = listed.value.tasks
        .map(
          (t) =>
            `${"position" in t && t.position !== undefined ? `#${t.position} ` : ""}${t.task_id} ${t.status.padEnd(9)} ${t.tier.padEnd(12)} ${t.name ?? ""} ${t.instruction.slice(0, 60)}`,
        )
        .join("\n");
      return valueResult(listed.value, text || "no tasks");
    },
  );

  server.registerTool(
    "logs",
    {
      outputSchema: logsOutput,
      annotations: readOnly,
      description: "A task's output lines with their sequence numbers (seq counts from 0 per task).",
      inputSchema: {
        ...taskRef,
        since_seq: z.number().int().min(0).optional().describe("first seq to return (default 0)"),
        limit: z
          .number()
          .int()
          .min(1)
          .max(MAX_LOG_READ)
          .optional()
          .describe(`most lines to return (default ${MAX_LOG_READ})`),
      },
    },
    async (args) => {
      const ref = refOf(args);
      if (typeof ref !== "string") return ref;
      const logs = await getLogs(ctx, ref, args.since_seq, args.limit);
      if (!logs.ok) return errorResult(logs.error);
      const text = logs.value.lines
        .map((line) => `${line.seq} ${line.stream === "stdout" ? "" : `[${line.stream}] `}${line.text}`)
        .join("\n");
      return valueResult(logs.value, text || "no lines");
    },
  );

  server.registerTool(
    "cancel",
    {
      outputSchema: taskOutput,
      annotations: destructive,
      description: "Cancel a task and stop its process tree.",
      inputSchema: taskRef,
    },
    async (args) => {
      const ref = refOf(args);
      if (typeof ref !== "string") return ref;
      const cancelled = await cancelTask(ctx, ref, "cancelled through MCP");
      return cancelled.ok ? taskResult(cancelled.value) : errorResult(cancelled.error);
    },
  );

  server.registerTool(
    "resolve",
    {
      outputSchema: taskOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
      description:
        "A person's decision on a task awaiting one: approve (accept the best attempt), retry (with guidance, optionally at another tier) or reject.",
      inputSchema: {
        ...taskRef,
        decision: ResolveDecision.shape.decision.describe("the decision"),
        guidance: ResolveDecision.shape.guidance.describe("for retry: what to do differently; for reject: why"),
        executor: ResolveDecision.shape.executor.describe("for retry: the tier to retry at"),
      },
    },
    async (args) => {
      const ref = refOf(args);
      if (typeof ref !== "string") return ref;
      const resolved = await resolveTaskDecision(ctx, ref, {
        decision: args.decision,
        ...(args.guidance === undefined ? {} : { guidance: args.guidance }),
        ...(args.executor === undefined ? {} : { executor: args.executor }),
      });
      return resolved.ok ? taskResult(resolved.value) : errorResult(resolved.error);
    },
  );

  server.registerTool(
    "list_agents",
    {
      outputSchema: agentsOutput,
      annotations: readOnly,
      description: "Registered agents: name, kind, tiers, state, last heartbeat, running tasks.",
    },
    async () => {
      const listed = await listAgents(ctx);
      if (!listed.ok) return errorResult(listed.error);
      const now = Date.now();
      const text = listed.value.agents
        .map(
          (a) =>
            `${a.name} (${a.kind}) ${a.state}, tiers ${a.tiers.join(",")}, running ${a.running.length}/${a.capacity}, last heartbeat ${Math.round((now - a.last_heartbeat) / 1000)} s ago`,
        )
        .join("\n");
      return valueResult(listed.value, text || "no agents registered");
    },
  );

  server.registerTool(
    "revoke_agent",
    {
      outputSchema: revokeOutput,
      annotations: destructive,
      description:
        "Revokes an agent: closes its sockets, gives its running attempts to other agents, and refuses it from now on (it enrolls again only under a new name, or after DELETE /api/agents/<name>).",
      inputSchema: { name: z.string().min(1).describe("the agent's name, as list_agents shows it") },
    },
    async ({ name }) => {
      const revoked = await revokeAgent(ctx, name, false);
      if (!revoked.ok) return errorResult(revoked.error);
      return valueResult(
        revoked.value,
        `agent ${revoked.value.name} revoked; ${revoked.value.requeued} running attempt(s) given back to be retried elsewhere`,
      );
    },
  );

  server.registerTool(
    "budget_status",
    {
      outputSchema: budgetOutput,
      annotations: readOnly,
      description:
        "Today's and this month's spend, the limits, the circuit breaker's state, and spend by tier, agent and day.",
    },
    async () => {
      const status = await getBudget(ctx);
      if (!status.ok) return errorResult(status.error);
      const b = status.value;
      const text = [
        `today ${b.day.date}: spent $${b.day.spent_usd.toFixed(4)}, reserved $${b.day.reserved_usd.toFixed(4)}, halt at $${b.day.halt_usd.toFixed(2)} ($${b.day.remaining_usd.toFixed(2)} left)`,
        `month ${b.month.month}: spent $${b.month.spent_usd.toFixed(4)}, alert at $${b.month.alert_usd.toFixed(2)}${b.month.alerted_at ? " (ALERT raised)" : ""}`,
        `breaker ${b.breaker.state}${b.breaker.reason ? `: ${b.breaker.reason}` : ""}${b.breaker.refused_today ? ` (${b.breaker.refused_today} refused today)` : ""}`,
      ].join("\n");
      return valueResult(b, text);
    },
  );
}
