// The memory rows (docs/memory.md): workerd's RSS against its idle figure, the plain ws server's
// beside it, and the agent's RSS fresh and after work.
import { fmt, type Row } from "./bench-table.ts";
import type { AgentAfterWork, ChurnResult } from "./server-memory.ts";
import type { ServerRss } from "./server-rss.ts";

export const MEMORY_GOAL = {
  /** workerd after a stream or a viewer churn: at most this many times its idle RSS. */
  serverGrowth: 2,
  agentMB: 60,
} as const;

const MIB_IN_MB = 1.048576;

const both = (rss: ServerRss): string =>
  `workerd ${fmt(rss.workerdMiB)} MiB (whole dev server ${fmt(rss.groupMiB)} MiB)`;

export function serverIdleRow(idle: ServerRss): Row {
  return {
    name: "mesh server RSS idle, fresh server (workerd; the whole `partykit dev` group beside it)",
    figure: both(idle),
    goal: "— (the reference for the rows below)",
    checks: [],
  };
}

export function serverAfterStreamRow(idle: ServerRss, after: ServerRss, lines: number, wsServerMiB: number): Row {
  return {
    name: `mesh server RSS after the one-stream row (${fmt(lines)} lines; ${lines >= 100_000 ? "full size" : "CI size, 100,000 in the full bench"}), against plain \`ws\` after the same stream`,
    figure: `${both(after)} = ${fmt(after.workerdMiB / idle.workerdMiB, 2)}× idle; plain ws server ${fmt(wsServerMiB)} MiB`,
    goal: `workerd ≤ ${MEMORY_GOAL.serverGrowth}× idle`,
    checks: [{ value: after.workerdMiB / idle.workerdMiB, goal: MEMORY_GOAL.serverGrowth, direction: "at-most" }],
  };
}

export function serverAfterViewersRow(idle: ServerRss, churn: ChurnResult): Row {
  return {
    name: `mesh server RSS after ${fmt(churn.viewers)} viewers (${churn.viewers >= 5_000 ? "full size" : "CI size, 5,000 in the full bench"}) opened a task's watch link, subscribed and closed cleanly, 50 at a time`,
    // A viewer the server let go without its close frame (1006, ~1 in 100 here) is released all the same: only an
    // unanswered close holds memory.
    figure: `${both(churn.rss)} = ${fmt(churn.rss.workerdMiB / idle.workerdMiB, 2)}× idle${
      Object.keys(churn.otherCloses).length === 0
        ? ""
        : `; ended otherwise: ${Object.entries(churn.otherCloses)
            .map(([how, n]) => `${fmt(n)} × ${how}`)
            .join(", ")}`
    }`,
    goal: `workerd ≤ ${MEMORY_GOAL.serverGrowth}× idle; every close answered`,
    checks: [{ value: churn.rss.workerdMiB / idle.workerdMiB, goal: MEMORY_GOAL.serverGrowth, direction: "at-most" }],
    ...(churn.stuck === 0 ? {} : { error: `${fmt(churn.stuck)} viewers' close was never answered by the server` }),
  };
}

export function agentAfterTasksRow(result: AgentAfterWork, idleSeconds: number): Row {
  const mb = result.mib * MIB_IN_MB;
  return {
    name: `agent RSS idle after ${fmt(result.tasks)} no-op tasks one after another, then ${fmt(idleSeconds)} s idle (whole process group)`,
    figure: `${fmt(mb, 1)} MB (${fmt(result.mib, 1)} MiB)`,
    goal: `≤ ${MEMORY_GOAL.agentMB} MB`,
    checks: [{ value: mb, goal: MEMORY_GOAL.agentMB, direction: "at-most" }],
    ...(result.failed === 0 ? {} : { error: `${fmt(result.failed)} of the no-op tasks did not succeed` }),
  };
}
