import {
  type CreateTaskRequest,
  DEFAULT_ROUTES,
  DISPATCH_DEFAULT_TIER,
  type ErrorBody,
  EXECUTE_DEFAULT_TIER,
  ExecutorTier,
  type Result,
  type RoutingTable,
  repoArgsProblem,
  resolveExecutorTier,
  routesFromSetting,
  routeTask,
  type TaskRouting,
} from "../../protocol/index.ts";

/** The table parsed once per value of MESH_ROUTES (the edge reads settings on every request). */
let cached: { value: unknown; table: RoutingTable | null } | null = null;

/** The configured routing table; null when none is (a bad one is refused at start, and logged and ignored here). */
function configuredRoutes(env: Record<string, unknown>): RoutingTable | null {
  if (cached !== null && cached.value === env.MESH_ROUTES) return cached.table;
  const parsed = routesFromSetting(env.MESH_ROUTES);
  if (parsed !== null && "problem" in parsed) console.error(`routing: ${parsed.problem}; using the built-in table`);
  cached = { value: env.MESH_ROUTES, table: parsed !== null && "table" in parsed ? parsed.table : null };
  return cached.table;
}

/**
 * Refuses repository arguments that do not fit together (credentials in the URL, repo with cwd), then:
 * where a new task starts and why (README "Scheduling"): `executor` wins; else the routing
 * table when a `kind` is given or a table is configured (`MESH_ROUTES`, or `routes.json` read at
 * start); else the default of `execute` (bottom of the ladder) or `dispatch` (sonnet).
 */
export function routeOf(env: Record<string, unknown>, args: CreateTaskRequest): Result<TaskRouting> {
  // Every way a task is created (MCP tools, plan, POST /api/tasks) passes here first (docs/repositories.md).
  const repoProblem = repoArgsProblem(args);
  if (repoProblem !== null) return refused("bad_request", repoProblem);
  if (args.executor !== undefined) {
    const tier = resolveExecutorTier(args.executor);
    if (tier === null)
      return refused(
        "bad_request",
        `executor: '${args.executor}' is neither a tier (${ExecutorTier.options.join(", ")}) nor a CLI (claude, codex, gemini, opencode)`,
      );
    return { ok: true, value: { tier, rule: `executor ${args.executor}` } };
  }
  const table = configuredRoutes(env);
  if (args.kind !== undefined || table !== null) {
    const routed = routeTask(table ?? DEFAULT_ROUTES, {
      kind: args.kind,
      instruction: args.instruction ?? args.prompt ?? "",
      allowedPaths: args.acceptance?.allowed_paths?.length ?? 0,
    });
    return {
      ok: true,
      value: { tier: routed.tier, rule: `${table === null ? "built-in" : "MESH_ROUTES"}: ${routed.rule}` },
    };
  }
  return args.name !== undefined
    ? { ok: true, value: { tier: DISPATCH_DEFAULT_TIER, rule: "default of dispatch" } }
    : { ok: true, value: { tier: EXECUTE_DEFAULT_TIER, rule: "default of execute" } };
}

const refused = (code: ErrorBody["code"], message: string): Result<TaskRouting> => ({
  ok: false,
  error: { code, message },
});
