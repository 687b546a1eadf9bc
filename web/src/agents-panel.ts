// The agents table: state, tiers, load and a heartbeat age that counts up every second between snapshots.
import type { AgentRecord } from "../../protocol/index.ts";
import { el } from "./element.ts";
import { emptyRow, headRow, labelCells } from "./table-rows.ts";
import { ago } from "./time-format.ts";

const COLUMNS = ["name", "kind", "state", "tiers", "load", "worktrees", "version", "last heartbeat"];

export class AgentsPanel {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly summary: HTMLSpanElement;
  /** Heartbeat cells and the time each shows the age of. */
  private heartbeats: { cell: HTMLTableCellElement; at: number }[] = [];
  private received = false;
  /** A running attempt silent longer than this is flagged (dead, slow, or waiting: a person looks). */
  private idleFlagMs: number | null = null;

  /** `linkFor` turns a running task's id into a link that opens it, or null where the link may not. */
  constructor(
    private readonly linkFor: (taskId: string) => string | null,
    extra: readonly HTMLElement[] = [],
  ) {
    this.body = el("tbody", { testid: "agents" }, emptyRow(COLUMNS.length, "waiting for the registry…"));
    this.summary = el("span", { class: "agents-summary" });
    this.element = el(
      "section",
      { class: "panel agents-panel", testid: "agents-panel" },
      el("div", { class: "panel-head" }, el("h2", { text: "Agents" }), this.summary, ...extra),
      // On a narrow screen each agent is a stack of named cells (docs/page.md "Narrow screens").
      el(
        "div",
        { class: "table-scroll" },
        el("table", { class: "agents stack-table" }, el("thead", {}, headRow(COLUMNS)), this.body),
      ),
    );
    setInterval(() => this.tick(Date.now()), 1000);
  }

  show(agents: readonly AgentRecord[], idleFlagS?: number): void {
    this.idleFlagMs = idleFlagS === undefined ? null : idleFlagS * 1000;
    this.received = true;
    const sorted = [...agents].sort((a, b) => stateOrder(a) - stateOrder(b) || a.name.localeCompare(b.name));
    this.heartbeats = [];
    this.body.replaceChildren(
      ...(sorted.length > 0
        ? sorted.map((agent) => this.row(agent))
        : [emptyRow(COLUMNS.length, "no agents registered yet")]),
    );
    const online = agents.filter((agent) => agent.state === "online").length;
    this.summary.textContent = `${online} of ${agents.length} online`;
    this.tick(Date.now());
  }

  /** The registry refused this page's credential: no agent list is coming. */
  unavailable(): void {
    if (!this.received)
      this.body.replaceChildren(emptyRow(COLUMNS.length, "the agent list is not available with this link"));
  }

  private tick(now: number): void {
    for (const { cell, at } of this.heartbeats) cell.textContent = ago(at, now);
  }

  private row(agent: AgentRecord): HTMLTableRowElement {
    const heartbeat = el("td", { class: "ago", title: new Date(agent.last_heartbeat).toLocaleString() });
    this.heartbeats.push({ cell: heartbeat, at: agent.last_heartbeat });
    const running = el("td", { class: "running" }, `${agent.running.length}/${agent.capacity}`);
    for (const ref of agent.running) {
      const href = this.linkFor(ref.task_id);
      const label = `${ref.task_id.slice(-6)}#${ref.attempt}`;
      running.append(
        " ",
        href === null
          ? el("code", { text: label, title: ref.task_id })
          : el("a", { text: label, title: ref.task_id, attrs: { href } }),
      );
      const silentMs = ref.last_output_at === undefined ? 0 : Date.now() - ref.last_output_at;
      if (ref.child_alive === false)
        running.append(" ", el("span", { class: "idle-flag", testid: "idle-flag", text: "child exited" }));
      else if (this.idleFlagMs !== null && silentMs > this.idleFlagMs) {
        running.append(
          " ",
          el("span", {
            class: "idle-flag",
            testid: "idle-flag",
            text: `silent ${Math.round(silentMs / 1000)} s`,
            title: "no output from the CLI for longer than the idle flag (MESH_IDLE_FLAG_S)",
          }),
        );
      }
    }
    const row = el(
      "tr",
      { attrs: { "data-agent": agent.name, "data-state": agent.state } },
      el("td", { class: "agent-name", text: agent.name }),
      el("td", { text: agent.kind }),
      el("td", { class: "state" }, el("span", { class: `dot state-${agent.state}` }), agent.state),
      el(
        "td",
        {},
        agent.tiers.join(", "),
        // Tiers its executors file names that failed the agent's preflight (docs/executors-file.md): each with why, on
        // hover.
        ...Object.entries(agent.unavailable ?? {}).map(([tier, why]) =>
          el("span", {
            class: "tier-unavailable",
            testid: "tier-unavailable",
            text: ` ${tier} unavailable`,
            title: why,
          }),
        ),
      ),
      running,
      el(
        "td",
        { class: "worktrees", title: "disk the agent's worktrees use, as it last reported" },
        agent.worktrees_bytes === undefined ? "" : bytes(agent.worktrees_bytes),
        // Its worktrees directory is read-only or full (docs/faults.md): no task that needs a worktree goes to it until
        // that is fixed.
        ...(agent.degraded?.worktree === undefined
          ? []
          : [
              " ",
              el("span", {
                class: "idle-flag",
                testid: "worktree-degraded",
                text: `no worktrees now: ${agent.degraded.worktree}`,
                title: agent.degraded.worktree,
              }),
            ]),
      ),
      el("td", { text: agent.version }),
      heartbeat,
    );
    return labelCells(row, COLUMNS);
  }
}

function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = count / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function stateOrder(agent: AgentRecord): number {
  return agent.state === "online" ? 0 : agent.state === "stale" ? 1 : 2;
}
