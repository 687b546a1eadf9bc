import { z } from "zod";

/** Tier ids, lowest first: the escalation ladder (docs/escalation.md). */
export const escalationLadder = [
  "deepseek",
  "gemini-flash",
  "gemini-pro",
  "codex",
  "sonnet",
  "opus",
  "consensus",
  "human",
] as const;

/** Any step of the ladder. */
export const Tier = z.enum(escalationLadder);
export type Tier = z.infer<typeof Tier>;

/** The tiers an agent can run itself: `consensus` and `human` are steps of the mesh, not executors. */
export const ExecutorTier = z.enum(["deepseek", "gemini-flash", "gemini-pro", "codex", "sonnet", "opus"]);
export type ExecutorTier = z.infer<typeof ExecutorTier>;

/** A CLI's name stands for the lowest tier that CLI serves. */
export const cliEntryTier = {
  opencode: "deepseek",
  gemini: "gemini-flash",
  codex: "codex",
  claude: "sonnet",
} as const satisfies Record<string, ExecutorTier>;

/** Where `execute` starts when no executor is named. */
export const EXECUTE_DEFAULT_TIER: ExecutorTier = "deepseek";
/** Where `dispatch` (a named task) starts when no executor is named. */
export const DISPATCH_DEFAULT_TIER: ExecutorTier = "sonnet";

/** A tier id or a CLI name, as `executor` arguments take it; `null` when it is neither. */
export function resolveExecutorTier(executor: string): ExecutorTier | null {
  const asTier = ExecutorTier.safeParse(executor);
  if (asTier.success) return asTier.data;
  return executor in cliEntryTier ? cliEntryTier[executor as keyof typeof cliEntryTier] : null;
}
