import { z } from "zod";

// Delivering a repo task's result to its repository (docs/delivery.md): the task room asks, through
// the registry, the agent that holds the result's commit to push it (and, for `pr`, to open a draft
// pull request with its `gh`); the agent answers with what the remote said.

/** Why a delivery did not happen, or only half did. */
export const DeliveryErrorCode = z.enum([
  /** The remote refused the push (a protected branch, a hook, a non-fast-forward); the message carries its words. */
  "push_refused",
  /** The branch was pushed, but `gh pr create` is missing or failed; the message carries gh's words and what to do. */
  "pr_failed",
  /** The repository could not be reached or read (network, credentials, not found). */
  "repo_unavailable",
  /** The agent that holds the result is not connected. */
  "agent_offline",
  /** Something failed inside the mesh or the agent; the message says what. */
  "internal",
]);
export type DeliveryErrorCode = z.infer<typeof DeliveryErrorCode>;

/** A git branch name as the mesh makes them (`mesh/<task>/<n>-<tier>`) or a person gives them. */
const BranchName = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[^-\s~^:?*[\\][^\s~^:?*[\\]*$/, "a branch name (no spaces, no leading '-')");
const Sha = z.string().regex(/^[0-9a-f]{7,64}$/, "a commit sha");

/** The pull request to open after the push: its title and body, written by the task room. */
export const PullRequestText = z.object({
  title: z.string().min(1).max(256),
  body: z.string().max(60_000),
});
export type PullRequestText = z.infer<typeof PullRequestText>;

/** What the agent is asked to deliver: one attempt's commit, to `repo`, as `remote_branch`. */
const DeliveryFields = z.object({
  task_id: z.string(),
  attempt: z.number().int().positive(),
  mode: z.enum(["push", "pr"]),
  /** The repository's URL (the task's `repo`). */
  repo: z.string().min(1).max(2000),
  /**
   * The local git directory on the agent that holds `commit` (the mirror or checkout the attempt's worktree came from).
   */
  source: z.string().min(1).max(4096),
  commit: Sha,
  remote_branch: BranchName,
  /** The pull request's base branch; absent: the repository's default branch. */
  base_ref: BranchName.optional(),
  /** Required for `pr`. */
  pull_request: PullRequestText.optional(),
});

/** How a delivery went. A `pr_failed` still carries the branch it pushed. */
export const DeliveryOutcome = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    remote_branch: BranchName,
    pushed_commit: Sha,
    pr_url: z.string().max(2000).optional(),
  }),
  z.object({
    ok: z.literal(false),
    code: DeliveryErrorCode,
    message: z.string().max(4000),
    remote_branch: BranchName.optional(),
    pushed_commit: Sha.optional(),
  }),
]);
export type DeliveryOutcome = z.infer<typeof DeliveryOutcome>;

/** Registry → agent: deliver this commit; answer with `branch.delivered`. */
export const BranchDeliver = DeliveryFields.extend({ type: z.literal("branch.deliver"), request_id: z.string() });
export type BranchDeliver = z.infer<typeof BranchDeliver>;

/** Agent → registry: how a `branch.deliver` went. */
export const BranchDelivered = z.object({
  type: z.literal("branch.delivered"),
  request_id: z.string(),
  outcome: DeliveryOutcome,
});
export type BranchDelivered = z.infer<typeof BranchDelivered>;

/** Task room → registry (HTTP): ask `agent` to deliver; the answer is a `DeliveryReply`. */
export const DeliveryRequest = DeliveryFields.extend({ type: z.literal("delivery.request"), agent: z.string() });
export type DeliveryRequest = z.infer<typeof DeliveryRequest>;

/** The registry's answer to `delivery.request`: the agent's outcome (or `agent_offline`). */
export const DeliveryReply = z.object({ outcome: DeliveryOutcome });
export type DeliveryReply = z.infer<typeof DeliveryReply>;

/**
 * Registry → task room: a delivery's outcome that came later than the `delivery.request`'s answer
 * (the agent was offline then and has come back); recorded like that answer.
 */
export const TaskDelivered = z.object({
  type: z.literal("task.delivered"),
  attempt: z.number().int().positive(),
  mode: z.enum(["push", "pr"]),
  outcome: DeliveryOutcome,
});
export type TaskDelivered = z.infer<typeof TaskDelivered>;
