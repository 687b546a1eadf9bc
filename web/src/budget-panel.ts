// The budget line of the dashboard: today's spend against the halt, the month against the alert, the breaker.
import type { BudgetStatus } from "../../protocol/index.ts";
import { el } from "./element.ts";

const money = (usd: number): string => `$${usd.toFixed(2)}`;

export class BudgetPanel {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;

  constructor() {
    this.body = el("div", { class: "budget-body", testid: "budget" }, el("span", { text: "waiting for the budget…" }));
    this.element = el("section", { class: "panel budget-panel", testid: "budget-panel" }, el("div", { class: "panel-head" }, el("h2", { text: "Budget" })), this.body);
  }

  show(status: BudgetStatus): void {
    const open = status.breaker.state === "open";
    const alert = status.month.alerted_at !== undefined;
    const breaker = el("span", { class: `badge ${open ? "status-failed" : "status-succeeded"}`, text: open ? "breaker open: halted" : "breaker closed" });
    breaker.dataset["state"] = status.breaker.state;
    this.body.replaceChildren(
      el("span", { text: `today ${money(status.day.spent_usd)} spent + ${money(status.day.reserved_usd)} reserved of ${money(status.day.halt_usd)}` }),
      el("span", { class: alert ? "budget-alert" : "", text: `month ${money(status.month.spent_usd)} of ${money(status.month.alert_usd)}${alert ? " — ALERT: the monthly spend passed its alert" : ""}` }),
      breaker,
      ...(open && status.breaker.reason ? [el("span", { class: "budget-reason", text: status.breaker.reason })] : []),
    );
  }

  unavailable(): void {
    this.body.replaceChildren(el("span", { text: "the budget is not available with this link" }));
  }
}
