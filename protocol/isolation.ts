import { z } from "zod";

// Work isolation and results (docs/work-isolation.md).

/** Where an attempt runs: its own git worktree (the default inside a git repository), or in place. */
export const Isolation = z.enum(["worktree", "none"]);
export type Isolation = z.infer<typeof Isolation>;

/** A git commit-ish (branch, tag, sha): no option-like or control characters. */
export const BaseRef = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^-\s~^:?*[\\][^\s~^:?*[\\]*$/, "a branch, tag or commit sha (no spaces, no leading '-')");

/** What an attempt's commit changed against its base. */
export const DiffStat = z.object({
  files: z.number().int().nonnegative(),
  insertions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
});
export type DiffStat = z.infer<typeof DiffStat>;

/** The acceptance check's evidence, kept on the attempt. */
export const AcceptanceEvidence = z.object({
  command: z.string(),
  /** Null when the command could not run or was killed. */
  exit_code: z.number().int().nullable(),
  passed: z.boolean(),
  /** The last 50 lines of its output. */
  output_tail: z.string().max(20_000),
  /** How long the command ran, in ms: the acceptance span ends with the attempt's exit (docs/traces.md). */
  duration_ms: z.number().nonnegative().optional(),
});
export type AcceptanceEvidence = z.infer<typeof AcceptanceEvidence>;

/** The succeeded task's result: the attempt it took, and where its work is. */
export const TaskResult = z.object({
  attempt: z.number().int().positive(),
  /** Absent when the attempt ran in place (no git repository) or changed nothing. */
  branch: z.string().optional(),
  commit: z.string().optional(),
  base: z.string().optional(),
  diff_stat: DiffStat.optional(),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** How a consensus round was decided, and why. */
export const ConsensusDecision = z.object({
  winner: z.number().int().positive(),
  reasons: z.array(z.string()),
});
export type ConsensusDecision = z.infer<typeof ConsensusDecision>;

/** The task's winning branch was merged into the user's checkout. */
export const Applied = z.object({
  /** The checkout's HEAD after the merge. */
  commit: z.string(),
  at: z.number(),
});
export type Applied = z.infer<typeof Applied>;

/** What an agent can do, announced in its hello: features, not version numbers (docs/wire-protocol.md). */
export const AgentCapabilities = z.object({
  /** It can run attempts in git worktrees (git with `worktree` support was found). */
  worktree: z.boolean(),
  git_version: z.string().max(100).optional(),
});
export type AgentCapabilities = z.infer<typeof AgentCapabilities>;

/** How many characters of a diff one `attempt.diff` frame carries (well under the frame limit even when escaped). */
export const DIFF_CHUNK_CHARS = 32_000;
/** The most diff stored per attempt; past it the stored diff is cut at a file boundary (`diff_truncated`). */
export const MAX_DIFF_BYTES = 4 * 1024 * 1024;
/** Hashes of changed lines an attempt reports, so consensus can compare candidates by content. */
export const MAX_DIFF_FINGERPRINT = 2000;
