// The dashboard's budget (docs/page.md): today against the halt and the month against the alert as
// meters, the breaker's state and why, today's spend by tier and by agent, and the last 30 days.
import type { BudgetStatus } from "../../protocol/index.ts";
import { bars, dayColumns, meter, money } from "./budget-charts.ts";
import { el } from "./element.ts";

export class BudgetPanel {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;

  constructor() {
    this.body = el("div", { class: "budget-body", testid: "budget" }, el("span", { text: "waiting for the budget…" }));
    this.element = el(
      "section",
      { class: "panel budget-panel", testid: "budget-panel" },
      el("div", { class: "panel-head" }, el("h2", { text: "Budget" })),
      this.body,
    );
  }

  show(status: BudgetStatus): void {
    const open = status.breaker.state === "open";
    const alert = status.month.alerted_at !== undefined;
    const breaker = el("span", {
      class: `badge ${open ? "status-failed" : "status-succeeded"}`,
      testid: "breaker",
      text: open ? "breaker open: halted" : "breaker closed",
    });
    breaker.dataset.state = status.breaker.state;
    const refused = status.breaker.refused_today > 0 ? ` · ${status.breaker.refused_today} refused today` : "";
    this.body.replaceChildren(
      el(
        "div",
        { class: "budget-meters" },
        meter(
          `today ${status.day.date}`,
          status.day.spent_usd,
          status.day.reserved_usd,
          status.day.halt_usd,
          "halt (MESH_DAILY_HALT_USD)",
          "budget-today",
        ),
        meter(
          `month ${status.month.month}`,
          status.month.spent_usd,
          0,
          status.month.alert_usd,
          "alert (MESH_MONTHLY_ALERT_USD)",
          "budget-month",
        ),
        el("div", { class: "breaker-line" }, breaker, el("span", { class: "dim", text: refused })),
        ...(open && status.breaker.reason
          ? [el("p", { class: "budget-reason", testid: "breaker-reason", text: status.breaker.reason })]
          : []),
        ...(alert
          ? [
              el("p", {
                class: "budget-alert",
                text: `The month's spend passed its alert of ${money(status.month.alert_usd)}.`,
              }),
            ]
          : []),
      ),
      el(
        "div",
        { class: "budget-charts" },
        bars("Today by tier", status.by_tier, "budget-by-tier"),
        bars("Today by agent", status.by_agent, "budget-by-agent"),
        dayColumns(status.last_30_days, "budget-days"),
      ),
    );
  }

  unavailable(): void {
    this.body.replaceChildren(el("span", { text: "the budget is not available with this link" }));
  }
}
