import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ApplyTaskRequest, type TaskView } from "../../protocol/index.ts";
import { applyTask, getDiff, type MeshContext } from "../edge/mesh-operations.ts";
import { refOf, taskRef } from "./mesh-tools.ts";
import { errorResult, taskResult } from "./tool-results.ts";
import { diffOutput, readOnly, taskOutput } from "./tool-schemas.ts";

/** A diff longer than this goes to the client whole in structured content, cut in the text. */
const DIFF_TEXT_CHARS = 200_000;

/** The tools over a task's work (docs/work-isolation.md): its diff, and applying it. */
export function registerWorkTools(server: McpServer, ctx: MeshContext): void {
  const attempt = ApplyTaskRequest.shape.attempt.describe("an attempt number; default the task's result");

  server.registerTool(
    "diff",
    {
      outputSchema: diffOutput,
      annotations: readOnly,
      description:
        "The unified diff of a task's result (or of one attempt), from its base commit to the attempt's commit: applicable with `git apply` at the base.",
      inputSchema: { ...taskRef, attempt },
    },
    async (args) => {
      const ref = refOf(args);
      if (typeof ref !== "string") return ref;
      const diff = await getDiff(ctx, ref, args.attempt);
      if (!diff.ok) return errorResult(diff.error);
      const text =
        diff.value.length === 0
          ? "(the attempt changed nothing)"
          : diff.value.length > DIFF_TEXT_CHARS
            ? `${diff.value.slice(0, DIFF_TEXT_CHARS)}\n… (cut here; structuredContent.diff holds all of it)`
            : diff.value;
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
      const asked = Date.now();
      const applied = await applyTask(ctx, ref, args.attempt);
      return applied.ok ? taskResult(applied.value, appliedNote(applied.value, asked)) : errorResult(applied.error);
    },
  );
}

/** A task applied before this call was not merged again: the answer says so, and when it was (docs/page.md "Apply"). */
function appliedNote(task: TaskView, asked: number): string | undefined {
  const applied = task.applied;
  if (applied === undefined) return undefined;
  const where = task.repo === undefined ? "the checkout" : "the remote's base branch";
  if (applied.at < asked)
    return `already applied at ${new Date(applied.at).toISOString()} (${where} at ${applied.commit}): nothing changed this time`;
  return `applied: ${where} is at ${applied.commit}`;
}
