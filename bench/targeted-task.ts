import type { ExecutorTier, TaskView } from "../protocol/index.ts";
import type { Mesh } from "../test/integration/mesh-harness.ts";

/** Creates a task for one named agent (so the bench knows which socket and which child serve it); returns its id. */
export async function createTargetedTask(
  mesh: Mesh,
  agent: string,
  label: string,
  tier: ExecutorTier = "deepseek",
): Promise<string> {
  const created = await mesh.api<TaskView>("/api/tasks", {
    method: "POST",
    body: { instruction: label, executor: tier, agent },
  });
  if (created.status !== 201)
    throw new Error(`creating a task for ${agent} → ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.task_id;
}
