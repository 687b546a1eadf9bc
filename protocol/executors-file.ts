import { z } from "zod";
import { ExecutorTier } from "./ladder.ts";

/** The output formats an executor's CLI may write, each read by its own parser (docs/cli-formats.md). */
export const ExecutorFormat = z.enum([
  "claude-stream-json",
  "claude-json",
  "codex-jsonl",
  "gemini-json",
  "gemini-stream-json",
  "opencode-json",
  "text",
]);
export type ExecutorFormat = z.infer<typeof ExecutorFormat>;

/** One executor: the command an agent runs for a tier. */
export const ExecutorSpec = z
  .object({
    /** Program and arguments; `{prompt}` is replaced by the prompt as one argument, never through a shell. */
    command: z.array(z.string()).min(1, "command needs at least the program to run"),
    format: ExecutorFormat,
    /** Wall-clock limit for one attempt, in seconds. */
    timeout_s: z.number().positive().max(86_400).default(1800),
    /** Seconds a run may print only reconnect/retry lines before it is stopped as `network_error` (default 120). */
    stall_s: z.number().positive().max(86_400).optional(),
    /** Extra environment variables for the child. */
    env: z.record(z.string(), z.string()).optional(),
    /**
     * Arguments that continue a CLI session, each piece may contain `{session_id}` (e.g. claude's
     * `["--resume", "{session_id}"]`); put just before `{prompt}` (or at the end). See docs/cli-formats.md.
     */
    resume: z
      .array(z.string())
      .min(1)
      .refine((pieces) => pieces.some((p) => p.includes("{session_id}")), "resume: one piece must contain {session_id}")
      .optional(),
  })
  .strict();
export type ExecutorSpec = z.infer<typeof ExecutorSpec>;

/** The executors file: tier id → executor. */
export const ExecutorsFile = z
  .object({
    executors: z.partialRecord(ExecutorTier, ExecutorSpec).refine((executors) => Object.keys(executors).length > 0, {
      message: "name at least one tier",
    }),
  })
  .strict();
export type ExecutorsFile = z.infer<typeof ExecutorsFile>;
