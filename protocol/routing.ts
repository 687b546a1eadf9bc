import { z } from "zod";
import { ExecutorTier } from "./ladder.ts";

/**
 * One rule of the routing table (docs/scheduling.md, README "Routing by kind"): when every
 * condition it names holds, a task without `executor` starts at `tier`. Rules are tried in order;
 * the last one has no conditions and is the default.
 */
export const RouteRule = z
  .object({
    /** A label for `routing.rule`; default `rule <n>`. */
    name: z.string().min(1).max(64).optional(),
    /** The task's `kind`, or one of several. */
    kind: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Bounds on the instruction's length, in characters. */
    min_chars: z.number().int().nonnegative().optional(),
    max_chars: z.number().int().nonnegative().optional(),
    /** Bounds on how many `acceptance.allowed_paths` the task names (0 when none). */
    min_paths: z.number().int().nonnegative().optional(),
    max_paths: z.number().int().nonnegative().optional(),
    tier: ExecutorTier,
  })
  .strict();
export type RouteRule = z.infer<typeof RouteRule>;

const CONDITIONS = ["kind", "min_chars", "max_chars", "min_paths", "max_paths"] as const;

/** The table: ordered rules, the last a default without conditions. */
export const RoutingTable = z
  .array(RouteRule)
  .min(1)
  .max(200)
  .refine((rules) => CONDITIONS.every((field) => rules.at(-1)?.[field] === undefined), {
    message: "the last rule is the default: it may name only name and tier",
  });
export type RoutingTable = z.infer<typeof RoutingTable>;

/**
 * The table when none is configured: cheap tiers for prose, stronger ones for changes that must
 * hold together. Tune it on `GET /api/budget`'s cost per succeeded attempt by kind.
 */
export const DEFAULT_ROUTES: RoutingTable = [
  { name: "docs", kind: ["docs", "typo", "comment"], tier: "deepseek" },
  { name: "tests", kind: ["test", "tests"], tier: "gemini-flash" },
  { name: "bugfix", kind: ["bugfix", "fix"], tier: "gemini-pro" },
  { name: "refactor", kind: "refactor", tier: "codex" },
  { name: "feature", kind: "feature", tier: "sonnet" },
  { name: "default", tier: "deepseek" },
];

/** What routing needs of a task. */
export type RoutedTask = { kind?: string | undefined; instruction: string; allowedPaths: number };

/** The first rule that matches (the last always does): the tier and the rule's label. */
export function routeTask(table: RoutingTable, task: RoutedTask): { tier: ExecutorTier; rule: string } {
  for (const [i, rule] of table.entries()) {
    if (!matches(rule, task)) continue;
    return { tier: rule.tier, rule: rule.name ?? `rule ${i + 1}` };
  }
  const last = table.at(-1);
  return { tier: last?.tier ?? "deepseek", rule: last?.name ?? `rule ${table.length}` };
}

function matches(rule: RouteRule, task: RoutedTask): boolean {
  const kinds = rule.kind === undefined ? null : Array.isArray(rule.kind) ? rule.kind : [rule.kind];
  if (kinds !== null && (task.kind === undefined || !kinds.includes(task.kind))) return false;
  const chars = task.instruction.length;
  if (rule.min_chars !== undefined && chars < rule.min_chars) return false;
  if (rule.max_chars !== undefined && chars > rule.max_chars) return false;
  if (rule.min_paths !== undefined && task.allowedPaths < rule.min_paths) return false;
  if (rule.max_paths !== undefined && task.allowedPaths > rule.max_paths) return false;
  return true;
}

/** The table in `MESH_ROUTES` (JSON), or why it is not one; null when the setting is absent. */
export function routesFromSetting(value: unknown): { table: RoutingTable } | { problem: string } | null {
  if (typeof value !== "string" || value.trim() === "") return null;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { problem: "MESH_ROUTES is not valid JSON" };
  }
  const parsed = RoutingTable.safeParse(Array.isArray(json) ? json : (json as { routes?: unknown } | null)?.routes);
  if (!parsed.success)
    return {
      problem: `MESH_ROUTES: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "table"}: ${issue.message}`).join("; ")}`,
    };
  return { table: parsed.data };
}
