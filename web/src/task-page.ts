// One task's page: its panel (with cancel and the path diagram), the human step, its work (with apply
// and the diff) and its live log, all following the task room. page.ts calls it for `#task=…`.
import type { ErrorBody } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { dashboardFragment, isTaskLink } from "./fragment-params.ts";
import { HumanStepPanel } from "./human-step-panel.ts";
import { mayAct } from "./link-powers.ts";
import { LogView } from "./log-view.ts";
import { isFinal, type SocketHealth } from "./socket-health.ts";
import { TaskActions } from "./task-actions.ts";
import { followTask } from "./task-feed.ts";
import { TaskPanel } from "./task-panel.ts";
import { WorkPanel } from "./work-panel.ts";

export type TaskPageHandlers = {
  /** An `error` from the task room, or a frame that did not parse. */
  onError: (error: ErrorBody) => void;
  onHealth: (health: SocketHealth) => void;
};

export function showTaskPage(taskId: string, token: string, content: HTMLElement, handlers: TaskPageHandlers): void {
  const canAct = mayAct(token);
  const log = new LogView(taskId);
  const human = new HumanStepPanel(taskId, token, canAct);
  const work = new WorkPanel(taskId, token, canAct);
  const actions = new TaskActions(taskId, token, canAct);
  const panel = new TaskPanel(taskId, [work.element, log.element], actions.element);
  if (!isTaskLink(token))
    content.append(
      el("a", {
        class: "back",
        testid: "back-to-dashboard",
        text: "← all tasks",
        attrs: { href: dashboardFragment(token) },
      }),
    );
  content.append(human.element, panel.element);
  document.title = `${taskId} · agent-mesh`;
  followTask(taskId, token, {
    onTask: (task) => {
      panel.show(task);
      actions.show(task);
      human.show(task);
      work.show(task);
    },
    onLines: (lines) => log.append(lines),
    onError: handlers.onError,
    onHealth: (health) => {
      handlers.onHealth(health);
      if (isFinal(health.phase)) panel.unavailable();
    },
  });
}
