// The page's entry: reads the fragment, then shows one task (`#task=…&token=…`) or the dashboard
// (`#token=…`), each panel following its room live.

import { followAgents } from "./agents-feed.ts";
import { AgentsPanel } from "./agents-panel.ts";
import { followBudget } from "./budget-feed.ts";
import { BudgetPanel } from "./budget-panel.ts";
import { el } from "./element.ts";
import { dashboardFragment, isTaskLink, type PageParams, parsePageFragment, taskFragment } from "./fragment-params.ts";
import { GrantsPanel } from "./grants-panel.ts";
import { mayAct } from "./link-powers.ts";
import { Notices } from "./notices.ts";
import { NotificationsPanel } from "./notifications-panel.ts";
import { isFinal, pageConnection, type SocketHealth, type SocketPhase } from "./socket-health.ts";
import { followTaskList } from "./task-list-feed.ts";
import { TaskListModel } from "./task-list-model.ts";
import { TaskListPanel } from "./task-list-panel.ts";
import { showTaskPage } from "./task-page.ts";

const INVALID_LINK =
  "This link is invalid or expired: ask for a new watch link (POST /api/links) or run npm start again";

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
    this.element.dataset.state = state;
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
    el(
      "p",
      {},
      "The link looks like ",
      code("/#task=<task id>&token=<token>"),
      " for one task, or ",
      code("/#token=<token>"),
      " for the dashboard.",
    ),
    el(
      "p",
      {},
      "A fresh link: ",
      code("POST /api/links"),
      " with the orchestrator token (body ",
      code('{"task": "<id or name>"}'),
      ", or ",
      code("{}"),
      " for the dashboard).",
    ),
  );
}

function main(): void {
  const params = parsePageFragment(location.hash);
  // The fragment is the page's whole state: a new one starts the page afresh.
  window.addEventListener("hashchange", () => location.reload());
  const notices = new Notices();
  const connection = new ConnectionState(notices);
  const home = el("a", {
    class: "home",
    text: "agent-mesh",
    attrs: { href: params.token !== null && !isTaskLink(params.token) ? dashboardFragment(params.token) : "#" },
  });
  const header = el("header", { class: "top" }, el("h1", {}, home), connection.element);
  const content = el("main", { class: "content" });
  document.body.replaceChildren(header, notices.element, content);

  const token = params.token;
  if (token === null) {
    content.append(helpText(params));
    return;
  }
  if (params.taskId !== null) showTask(params.taskId, token, content, notices, connection);
  else showDashboard(token, content, notices, connection);
}

/** One task: its panel (cancel, the path), the human step, its work (apply, the diff) and its log. */
function showTask(
  taskId: string,
  token: string,
  content: HTMLElement,
  notices: Notices,
  connection: ConnectionState,
): void {
  showTaskPage(taskId, token, content, {
    onError: (error) => notices.error("task", error),
    onHealth: (health) =>
      connection.update("task", health, `No task ${taskId} on this mesh: check the task id in the link.`),
  });
}

/** The mesh at a glance (docs/page.md): tasks, agents and the budget, each following its room live. */
function showDashboard(token: string, content: HTMLElement, notices: Notices, connection: ConnectionState): void {
  document.title = "dashboard · agent-mesh";
  const model = new TaskListModel();
  const tasks = new TaskListPanel(model, (taskId) => taskFragment(taskId, token));
  const agents = new AgentsPanel((taskId) => taskFragment(taskId, token));
  const budget = new BudgetPanel();
  // The apps connected over OAuth (docs/connect-claude-ai.md), read once: grants change only by a person.
  const grants = new GrantsPanel(token, mayAct(token));
  // Webhook deliveries and their failures (docs/notifications.md), read every 15 s.
  const notifications = new NotificationsPanel(token, mayAct(token));
  content.append(tasks.element, agents.element, budget.element, grants.element, notifications.element);
  void grants.load();
  notifications.start();
  followTaskList(token, model, {
    onChange: () => tasks.changed(),
    onError: (error) => notices.error("tasks", error),
    onHealth: (health) => {
      connection.update("tasks", health, "The task list is not available.");
      if (isFinal(health.phase)) tasks.unavailable();
    },
  });
  followAgents(token, {
    onAgents: (list, idleFlagS) => agents.show(list, idleFlagS),
    onError: (error) => notices.error("registry", error),
    onHealth: (health) => {
      connection.update("registry", health, "The agent registry is not available.");
      if (isFinal(health.phase)) agents.unavailable();
    },
  });
  followBudget(token, {
    onStatus: (status) => budget.show(status),
    onError: (error) => notices.error("budget", error),
    onHealth: (health) => {
      connection.update("budget", health, "The budget is not available.");
      if (isFinal(health.phase)) budget.unavailable();
    },
  });
}

main();
