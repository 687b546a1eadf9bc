// The page's entry: reads the fragment, lays out the panels and connects them to the task room and the registry.
import { AgentsPanel } from "./agents-panel.ts";
import { HumanStepPanel } from "./human-step-panel.ts";
import { WorkPanel } from "./work-panel.ts";
import { BudgetPanel } from "./budget-panel.ts";
import { followBudget } from "./budget-feed.ts";
import { followAgents } from "./agents-feed.ts";
import { el } from "./element.ts";
import { isTaskLink, parsePageFragment, taskFragment, type PageParams } from "./fragment-params.ts";
import { LogView } from "./log-view.ts";
import { Notices } from "./notices.ts";
import { isFinal, pageConnection, type SocketHealth, type SocketPhase } from "./socket-health.ts";
import { followTask } from "./task-feed.ts";
import { TaskPanel } from "./task-panel.ts";

const INVALID_LINK = "This link is invalid or expired: ask for a new watch link (POST /api/links) or run npm start again";

/** The header's connection state, fed by every socket the page opens. */
class ConnectionState {
  readonly element = el("span", { class: "connection", testid: "connection-state" });
  private readonly phases = new Map<string, SocketPhase>();

  constructor(private readonly notices: Notices) {
    this.render();
  }

  update(socket: string, health: SocketHealth, notFound: string): void {
    this.phases.set(socket, health.phase);
    if (health.phase === "refused") this.notices.showBanner(INVALID_LINK);
    if (health.phase === "not_found") this.notices.showBanner(notFound);
    this.render();
  }

  private render(): void {
    const state = pageConnection([...this.phases.values()]);
    this.element.textContent = state;
    this.element.className = `connection connection-${state}`;
    this.element.dataset["state"] = state;
  }
}

function helpText(params: PageParams): HTMLElement {
  const code = (text: string): HTMLElement => el("code", { text });
  return el(
    "section",
    { class: "panel help", testid: "help" },
    el("h2", { text: params.taskId === null ? "Open a link to watch the mesh" : "This link has no token" }),
    el(
      "p",
      {},
      "This page shows a task's live log and the mesh's agents. Open it with a link that carries a token in its fragment: ",
      "the dashboard URL printed by ",
      code("npm start"),
      ", or a task's ",
      code("watch_url"),
      " (returned by the API and the MCP tools).",
    ),
    el("p", {}, "The link looks like ", code("/#task=<task id>&token=<token>"), " for one task, or ", code("/#token=<token>"), " for the dashboard."),
    el("p", {}, "A fresh link: ", code("POST /api/links"), " with the orchestrator token (body ", code('{"task": "<id or name>"}'), ", or ", code("{}"), " for the dashboard)."),
  );
}

/** Lets a dashboard open any task by id. */
function openTaskForm(token: string): HTMLFormElement {
  const input = el("input", { attrs: { type: "text", placeholder: "task id", "aria-label": "task id", "data-testid": "open-task-id" } });
  const form = el("form", { class: "open-task" }, input, el("button", { text: "open task", attrs: { type: "submit" } }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const taskId = input.value.trim();
    if (taskId !== "") location.hash = taskFragment(taskId, token);
  });
  return form;
}

function main(): void {
  const params = parsePageFragment(location.hash);
  // The fragment is the page's whole state: a new one starts the page afresh.
  window.addEventListener("hashchange", () => location.reload());
  const notices = new Notices();
  const connection = new ConnectionState(notices);
  const header = el("header", { class: "top" }, el("h1", { text: "agent-mesh" }), connection.element);
  const content = el("main", { class: "content" });
  document.body.replaceChildren(header, notices.element, content);

  const token = params.token;
  if (token === null) {
    content.append(helpText(params));
    return;
  }
  if (params.taskId !== null) {
    const taskId = params.taskId;
    const log = new LogView();
    // Only the orchestrator token and operator links may decide or apply; task and dashboard links are read-only.
    const mayDecide = !token.startsWith("v1.task-") && !token.startsWith("v1.dashboard.");
    const human = new HumanStepPanel(taskId, token, mayDecide);
    const work = new WorkPanel(taskId, token, mayDecide);
    const panel = new TaskPanel(taskId, [work.element, log.element]);
    content.append(human.element, panel.element);
    document.title = `${taskId} · agent-mesh`;
    followTask(taskId, token, {
      onTask: (task) => {
        panel.show(task);
        human.show(task);
        work.show(task);
      },
      onLines: (lines) => log.append(lines),
      onError: (error) => notices.error("task", error),
      onHealth: (health) => {
        connection.update("task", health, `No task ${taskId} on this mesh: check the task id in the link.`);
        if (isFinal(health.phase)) panel.unavailable();
      },
    });
  }
  if (!isTaskLink(token)) {
    const budget = new BudgetPanel();
    content.append(budget.element);
    followBudget(token, {
      onStatus: (status) => budget.show(status),
      onError: (error) => notices.error("budget", error),
      onHealth: (health) => {
        connection.update("budget", health, "The budget is not available.");
        if (isFinal(health.phase)) budget.unavailable();
      },
    });
    const agents = new AgentsPanel((taskId) => taskFragment(taskId, token), [openTaskForm(token)]);
    content.append(agents.element);
    if (params.taskId === null) document.title = "dashboard · agent-mesh";
    followAgents(token, {
      onAgents: (list, idleFlagS) => agents.show(list, idleFlagS),
      onError: (error) => notices.error("registry", error),
      onHealth: (health) => {
        connection.update("registry", health, "The agent registry is not available.");
        if (isFinal(health.phase)) agents.unavailable();
      },
    });
  }
}

main();
