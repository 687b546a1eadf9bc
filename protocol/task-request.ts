import { z } from "zod";
import { Acceptance } from "./acceptance.ts";
import { SHORT_NAME_PATTERN } from "./identity.ts";
import { BaseRef, Isolation } from "./isolation.ts";
import { MAX_INSTRUCTION_CHARS } from "./limits.ts";
import { DeliverMode, RepoUrl } from "./repository.ts";

/** A task id: a ULID (Crockford base32, 26 characters). */
export const TaskId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "a task id is a 26-character ULID");

/** A task name: short, URL-safe, and never a ULID (so `/api/tasks/<id or name>` is unambiguous). */
export const TaskName = z
  .string()
  .regex(SHORT_NAME_PATTERN, "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
  .refine((name) => !TaskId.safeParse(name).success, "a task name may not look like a task id (a ULID)");

/** A task's priority: 0-9, higher first. */
export const TaskPriority = z.number().int().min(0).max(9);
export const DEFAULT_PRIORITY = 5;
/** A task's kind, as routing rules match it. */
export const TaskKind = z.string().regex(SHORT_NAME_PATTERN, "use 1-64 letters, digits, '.', '_' or '-'");
/** Most tasks one task may wait for. */
export const MAX_AFTER = 50;
/**
 * A task's hard cap in US dollars over all its attempts: one bound for the request, the command and the record
 * (docs/budget.md).
 */
export const TaskCostCap = z.number().positive().max(100_000);
/** The tasks (ids or names) a new task waits for: at least one when given (docs/scheduling.md). */
export const AfterRefs = z.array(z.string().min(1).max(64)).min(1).max(MAX_AFTER);

/**
 * The body of `POST /api/tasks`: the `execute` or `dispatch` arguments.
 * `instruction` (execute) and `prompt` (dispatch) are the same thing; give one.
 * A `name` makes it a named task, with dispatch's defaults (sonnet, a Mac agent when one is connected).
 */
export const CreateTaskRequest = z
  .object({
    instruction: z.string().min(1).max(MAX_INSTRUCTION_CHARS).optional(),
    prompt: z.string().min(1).max(MAX_INSTRUCTION_CHARS).optional(),
    name: TaskName.optional(),
    /** A tier id, or a CLI name meaning the lowest tier it serves. */
    executor: z.string().min(1).optional(),
    cwd: z.string().min(1).optional(),
    /** An agent's name, or `mac` / `vm` for any agent of that kind. */
    agent: z.string().min(1).optional(),
    acceptance: Acceptance.optional(),
    /** `worktree` (the default inside a git repository) or `none` (run in place). */
    isolation: Isolation.optional(),
    /**
     * The commit-ish every attempt starts from (default: the checkout's HEAD when the first attempt starts; for a repo
     * task, the remote's default branch).
     */
    base_ref: BaseRef.optional(),
    /**
     * A git URL (https, ssh, git, file) the agent clones into its mirror, instead of `cwd`; never with credentials in
     * it (`repoArgsProblem`).
     */
    repo: RepoUrl.optional(),
    /**
     * A repo task's delivery: `none` (default), `push` its result's branch, or `pr` (push and open a draft pull
     * request).
     */
    deliver: DeliverMode.optional(),
    /**
     * A hard cap in US dollars over all the task's attempts, consensus included: each attempt is capped at what is
     * left, and when the next one's reservation would pass it the task goes to a person (docs/budget.md).
     */
    max_cost_usd: TaskCostCap.optional(),
    /**
     * 0-9, higher first (default 5): the registry hands out the highest priority first, in arrival order within one
     * (docs/scheduling.md).
     */
    priority: TaskPriority.optional(),
    /** Tasks (ids or names) that must all succeed before this one is dispatched; it is created at once and waits. */
    after: AfterRefs.optional(),
    /**
     * How long an attempt may wait for an agent that serves its tier before it fails as `no_agent` (default
     * MESH_QUEUE_TIMEOUT_S, 600).
     */
    queue_timeout_s: z
      .number()
      .positive()
      .max(7 * 86_400)
      .optional(),
    /**
     * What kind of work this is (`docs`, `refactor`, `bugfix`, `feature`, ...): picks the starting tier through the
     * routing table unless `executor` names one.
     */
    kind: TaskKind.optional(),
    /** Also send `task.succeeded` / `task.failed` to the webhooks when it ends (docs/notifications.md). */
    notify: z.boolean().optional(),
    /** How long `execute` waits before returning a running task (docs/mcp-tools.md). */
    wait_s: z.number().nonnegative().max(3600).optional(),
  })
  .strict()
  .refine((body) => (body.instruction === undefined) !== (body.prompt === undefined), {
    message: "give exactly one of 'instruction' or 'prompt'",
    path: ["instruction"],
  });
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;
