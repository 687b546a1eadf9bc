import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { applyTask, getDiff, type MeshContext } from "../edge/mesh-operations.ts";
import { taskRef, refOf } from "./mesh-tools.ts";
import { errorResult, taskResult } from "./tool-results.ts";
import { diffOutput, readOnly, taskOutput } from "./tool-schemas.ts";

/** A diff longer than this goes to the client whole in structured content, cut in the text. */
const DIFF_TEXT_CHARS = 200_000;

/** The tools over a task's work (INTERFACES.md "Work isolation and results"): its diff, and applying it. */
export function registerWorkTools(server: McpServer, ctx: MeshContext): void {
  const attempt = z.number().int().positive().optional().describe("an attempt number; default the task's result");

  server.registerTool(
    "diff",
    {
      outputSchema: diffOutput,
      annotations: readOnly,
      description: "The unified diff of a task's result (or of one attempt), from its base commit to the attempt's commit: applicable with `git apply` at the base.",
      inputSchema: { ...taskRef, attempt },
    },
    async (args) => {
      const ref = refOf(args);
      if (typeof ref !== "string") return ref;
      const diff = await getDiff(ctx, ref, args.attempt);
      if (!diff.ok) return errorResult(diff.error);
      const text = diff.value.length === 0 ? "(the attempt changed nothing)" : diff.value.length > DIFF_TEXT_CHARS ? `${diff.value.slice(0, DIFF_TEXT_CHARS)}\n… (cut here; structuredContent.diff holds all of it)` : diff.value;
      return { content: [{ type: "text", text }], structuredContent: { diff: diff.value } };
    },
  );

  server.registerTool(
    "apply",
    {
      outputSchema: taskOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      description:
        "Merge a succeeded task's branch (or one attempt's) into the user's checkout, through the agent that ran it: a fast-forward when possible, else a merge commit. " +
        "Refuses, changing nothing, when the checkout has uncommitted changes (checkout_dirty), the branch conflicts (apply_conflict) or the agent is offline (agent_offline). Applying twice is a no-op.",
      inputSchema: { ...taskRef, attempt },
    },
    async (args) => {
      const ref = refOf(args);
      if (typeof ref !== "string") return ref;
      const applied = await applyTask(ctx, ref, args.attempt);
      return applied.ok ? taskResult(applied.value, applied.value.applied ? `applied: the checkout is at ${applied.value.applied.commit}` : undefined) : errorResult(applied.error);
    },
  );
}
