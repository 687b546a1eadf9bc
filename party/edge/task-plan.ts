import {
  CreateTaskRequest,
  FINISHED_TASK_STATUSES,
  type PlanReply,
  type PlanRequest,
  type TaskView,
} from "../../protocol/index.ts";
import { cancelTask, findTaskByName, type MeshContext, type Outcome, resolveTaskRef } from "./mesh-operations.ts";
import { createTask } from "./task-creation.ts";

/**
 * A checked plan: each task's arguments, its prerequisites inside the plan (keys) and outside it (refs), in creation
 * order.
 */
type PlanStep = { key: string; args: CreateTaskRequest; keys: string[]; refs: string[] };

const fail = <T>(message: string): Outcome<T> => ({ ok: false, error: { code: "bad_request", message } });

/**
 * Checks a plan without creating anything: keys unique, arguments valid, every `after` a key of the
 * plan or an existing task, names unique, and no cycle. The steps come in an order where each
 * task's prerequisites come first.
 */
export async function checkPlan(ctx: MeshContext, plan: PlanRequest): Promise<Outcome<PlanStep[]>> {
  const keys = new Set<string>();
  const steps: PlanStep[] = [];
  for (const [i, { key, after, ...rest }] of plan.tasks.entries()) {
    if (keys.has(key)) return fail(`tasks[${i}].key: '${key}' is used twice; give each task of a plan its own key`);
    keys.add(key);
    const args = CreateTaskRequest.safeParse(rest);
    if (!args.success)
      return fail(
        `tasks[${i}] (${key}): ${args.error.issues.map((issue) => `${issue.path.join(".") || "arguments"}: ${issue.message}`).join("; ")}`,
      );
    steps.push({ key, args: args.data, keys: [], refs: [...new Set(after ?? [])] });
  }
  for (const step of steps) {
    step.keys = step.refs.filter((ref) => keys.has(ref));
    step.refs = step.refs.filter((ref) => !keys.has(ref));
    if (step.keys.includes(step.key)) return fail(`tasks (${step.key}): a task cannot be after itself`);
  }
  const names = steps.flatMap((s) => (s.args.name === undefined ? [] : [s.args.name]));
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) return fail(`name '${twice}' is given to two tasks of the plan`);
  for (const name of names) {
    const holder = await findTaskByName(ctx, name);
    if (holder.ok && !FINISHED_TASK_STATUSES.includes(holder.value.status))
      return {
        ok: false,
        error: {
          code: "name_in_use",
          message: `name '${name}' is held by task ${holder.value.task_id}, which is ${holder.value.status}; nothing of the plan was created`,
        },
      };
  }
  const ordered = topologicalOrder(steps);
  if (!Array.isArray(ordered))
    return fail(`the plan has a cycle: ${ordered.cycle.join(" → ")}; a task cannot wait, through others, for itself`);
  for (const step of steps) {
    for (const ref of step.refs) {
      const found = await resolveTaskRef(ctx, ref);
      if (!found.ok)
        return fail(`tasks (${step.key}).after: '${ref}' is neither a key of this plan nor an existing task`);
    }
  }
  return { ok: true, value: ordered };
}

/** Kahn's order over keys; a cycle, named, when one is left. */
function topologicalOrder(steps: readonly PlanStep[]): PlanStep[] | { cycle: string[] } {
  const byKey = new Map(steps.map((s) => [s.key, s]));
  const done = new Set<string>();
  const ordered: PlanStep[] = [];
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const step of steps) {
      if (done.has(step.key) || !step.keys.every((k) => done.has(k))) continue;
      done.add(step.key);
      ordered.push(step);
      progressed = true;
    }
  }
  if (ordered.length === steps.length) return ordered;
  // Walk prerequisites from a task left over until one repeats: that loop is the cycle.
  const path: string[] = [];
  let at = steps.find((s) => !done.has(s.key));
  while (at !== undefined && !path.includes(at.key)) {
    path.push(at.key);
    at = byKey.get(at.keys.find((k) => !done.has(k)) ?? "");
  }
  return { cycle: at === undefined ? path : [...path.slice(path.indexOf(at.key)), at.key] };
}

/** The plan as a Mermaid flowchart: one node per task (key, tier, status), an arrow from each prerequisite. */
export function planMermaid(steps: readonly PlanStep[], created: ReadonlyMap<string, TaskView>): string {
  const ids = new Map(steps.map((s, i) => [s.key, `t${i + 1}`]));
  const lines = ["flowchart TD"];
  for (const step of steps) {
    const task = created.get(step.key);
    const label = `${step.key}${task === undefined ? "" : `<br/>${task.tier} · ${task.status}`}`.replace(/"/g, "'");
    lines.push(`  ${ids.get(step.key)}["${label}"]`);
  }
  for (const step of steps) {
    for (const key of step.keys) lines.push(`  ${ids.get(key)} --> ${ids.get(step.key)}`);
    for (const ref of step.refs)
      lines.push(`  ext_${ref.replace(/[^A-Za-z0-9_]/g, "_")}(["${ref}"]) --> ${ids.get(step.key)}`);
  }
  return lines.join("\n");
}

/**
 * Creates every task of a plan or none: all is checked first; then each is created after its
 * prerequisites, `after` pointing at their new ids. Should a creation still fail (the breaker
 * tripped meanwhile, a name was taken), the tasks already made are cancelled and the error says so.
 */
export async function createPlan(ctx: MeshContext, plan: PlanRequest): Promise<Outcome<PlanReply>> {
  const checked = await checkPlan(ctx, plan);
  if (!checked.ok) return checked;
  const created = new Map<string, TaskView>();
  for (const step of checked.value) {
    const after = [...step.keys.map((key) => created.get(key)?.task_id ?? key), ...step.refs];
    const task = await createTask(ctx, { ...step.args, ...(after.length === 0 ? {} : { after }) });
    if (task.ok) {
      created.set(step.key, task.value);
      continue;
    }
    await Promise.all(
      [...created.values()].map((made) =>
        cancelTask(ctx, made.task_id, `plan rolled back: task '${step.key}' could not be created`),
      ),
    );
    const undone = created.size === 0 ? "" : `; the ${created.size} task(s) already created were cancelled`;
    return {
      ok: false,
      error: {
        code: task.error.code,
        message: `plan: task '${step.key}' could not be created: ${task.error.message}${undone}`,
      },
    };
  }
  const order = new Map(plan.tasks.map((t, i) => [t.key, i]));
  const steps = [...checked.value].sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
  return {
    ok: true,
    value: { tasks: steps.flatMap((s) => created.get(s.key) ?? []), mermaid: planMermaid(steps, created) },
  };
}
