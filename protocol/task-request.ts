import { z } from "zod";
import { MAX_INSTRUCTION_CHARS } from "./limits.ts";
import { Acceptance } from "./acceptance.ts";
import { BaseRef, Isolation } from "./isolation.ts";

/** A task id: a ULID (Crockford base32, 26 characters). */
export const TaskId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "a task id is a 26-character ULID");

/** A task name: short, URL-safe, and never a ULID (so `/api/tasks/<id or name>` is unambiguous). */
export const TaskName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
  .refine((name) => !TaskId.safeParse(name).success, "a task name may not look like a task id (a ULID)");


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
    /** The commit-ish every attempt starts from (default: the checkout's HEAD when the first attempt starts). */
    base_ref: BaseRef.optional(),
    /** A hard cap in US dollars over all the task's attempts, consensus included: each attempt is capped at what is left, and when the next one's reservation would pass it the task goes to a person (issue 13). */
    max_cost_usd: z.number().positive().max(100_000).optional(),
    /** How long `execute` waits before returning a running task (MCP issue). */
    wait_s: z.number().nonnegative().max(3600).optional(),
  })
  .strict()
  .refine((body) => (body.instruction === undefined) !== (body.prompt === undefined), {
    message: "give exactly one of 'instruction' or 'prompt'",
    path: ["instruction"],
  });
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;
