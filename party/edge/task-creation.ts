// Creating a task (docs/http-api.md, docs/mcp-tools.md): the id, the route, the agent selector and
// the tasks it waits for, checked at the edge; the task room owns the rest.
import { monotonicFactory } from "ulid";
import {
  type AgentSelector,
  type CreateTaskRequest,
  PartyName,
  type TaskCommand,
  TaskId,
  type TaskRecord,
  type TaskView,
} from "../../protocol/index.ts";
import { queueTimeoutFrom } from "../task-room/queue-settings.ts";
import { audited, callRoom, fail, type MeshContext, type Outcome, present, resolveTaskRef } from "./mesh-operations.ts";
import { routeOf } from "./task-routing.ts";
import { traceOfRequest } from "./task-trace-context.ts";

/**
 * ULIDs from WebCrypto: ulid's own PRNG detection fails under workerd, and randomness is not
 * allowed at module load there, so the factory is made on first use.
 */
let ulidFactory: (() => string) | null = null;
function nextTaskId(): string {
  ulidFactory ??= monotonicFactory(() => (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) / 0x1_0000_0000);
  return ulidFactory();
}

function selectorFor(agent: string | undefined, named: boolean): AgentSelector {
  if (agent === "mac" || agent === "vm") return { by: "kind", kind: agent };
  if (agent !== undefined) return { by: "name", name: agent };
  // dispatch (a named task) runs on a Mac agent when one is connected, as in the seeds.
  return named ? { by: "prefer", kind: "mac" } : { by: "any" };
}

/**
 * Creates a task (named when `name` is given, with dispatch's defaults) and dispatches its first attempt, or makes it
 * wait for the tasks it is `after`.
 */
export async function createTask(ctx: MeshContext, args: CreateTaskRequest): Promise<Outcome<TaskView>> {
  const named = args.name !== undefined;
  const routing = routeOf(ctx.env, args);
  if (!routing.ok) return routing;
  const after = args.after === undefined ? [] : await resolveAfter(ctx, args.after);
  if (!Array.isArray(after)) return after;
  const command: TaskCommand = {
    type: "task.create",
    task_id: nextTaskId(),
    ...(named ? { name: args.name } : {}),
    instruction: args.instruction ?? args.prompt ?? "",
    ...(args.cwd === undefined ? {} : { cwd: args.cwd }),
    tier: routing.value.tier,
    agent_selector: selectorFor(args.agent, named),
    ...(args.acceptance === undefined ? {} : { acceptance: args.acceptance }),
    ...(args.isolation === undefined ? {} : { isolation: args.isolation }),
    ...(args.base_ref === undefined ? {} : { base_ref: args.base_ref }),
    ...(args.repo === undefined ? {} : { repo: args.repo }),
    ...(args.deliver === undefined ? {} : { deliver: args.deliver }),
    ...(args.max_cost_usd === undefined ? {} : { max_cost_usd: args.max_cost_usd }),
    ...(args.priority === undefined ? {} : { priority: args.priority }),
    ...(after.length === 0 ? {} : { after }),
    queue_timeout_s: args.queue_timeout_s ?? queueTimeoutFrom(ctx.env),
    ...(args.kind === undefined ? {} : { kind: args.kind }),
    routing: routing.value,
    ...traceOfRequest(ctx.traceparent),
    ...(args.notify === undefined ? {} : { notify: args.notify }),
  };
  // One request: the task room owns the rest (the breaker, the name, the listing, the dispatch).
  const created = await callRoom<TaskRecord>(ctx, PartyName.task, command.task_id, "", {
    method: "POST",
    body: command,
  });
  return audited(
    ctx,
    "task.create",
    command.task_id,
    created.ok ? { ok: true, value: await present(ctx, created.value) } : created,
  );
}

/**
 * The ids of the tasks an `after` names (ids or names, each checked to exist), or the error naming the first unknown
 * one.
 */
async function resolveAfter(ctx: MeshContext, refs: readonly string[]): Promise<string[] | Outcome<never>> {
  const found = await Promise.all(
    [...new Set(refs)].map(async (ref) => {
      const id = await resolveTaskRef(ctx, ref);
      if (!id.ok) return { ref, id: null };
      const task = TaskId.safeParse(ref).success ? await callRoom<TaskRecord>(ctx, PartyName.task, id.value, "") : id;
      return { ref, id: task.ok ? id.value : null };
    }),
  );
  const unknown = found.find((f) => f.id === null);
  if (unknown !== undefined)
    return fail(
      "bad_request",
      `after: no task '${unknown.ref}'; name existing tasks by id or name (a plan's tasks by their key)`,
    );
  return [...new Set(found.map((f) => f.id as string))];
}
