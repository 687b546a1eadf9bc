// The dashboard's webhook deliveries (docs/notifications.md): each event sent to each target, with
// its attempts, status and last error, newest first, read when the page opens, every 15 s after and
// on "reload". Only an operator link or the orchestrator token may read them; a read-only link is told so.
import { callApi } from "./api-request.ts";
import { el } from "./element.ts";
import { READ_ONLY_NOTE } from "./link-powers.ts";
import { deliveryCells, notificationsSummary, parseNotifications } from "./notifications-model.ts";
import { emptyRow, headRow, labelCells } from "./table-rows.ts";
import { refusalText, unreachableText } from "./work-facts.ts";

/** The last day's deliveries: a retry window is 24 h. */
const WINDOW_MS = 24 * 3600 * 1000;
const REFRESH_MS = 15_000;
const COLUMNS = ["event", "type", "target", "attempts", "status", "last error", "changed"];

export class NotificationsPanel {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly summary: HTMLSpanElement;
  private readonly outcome: HTMLParagraphElement;
  private timer: ReturnType<typeof setInterval> | null = null;

  /** `canRead`: the page's token is the orchestrator token or an operator link. */
  constructor(
    private readonly token: string,
    private readonly canRead: boolean,
  ) {
    this.body = el(
      "tbody",
      { testid: "notifications" },
      emptyRow(
        COLUMNS.length,
        canRead ? "reading the deliveries…" : "webhook deliveries are listed for operator links only",
      ),
    );
    this.summary = el("span", { class: "dim", testid: "notifications-summary" });
    this.outcome = el("p", { class: "action-outcome", testid: "notifications-outcome", attrs: { role: "status" } });
    const reload = el("button", { text: "reload", attrs: { type: "button", "data-testid": "notifications-reload" } });
    reload.addEventListener("click", () => void this.load());
    reload.hidden = !canRead;
    this.element = el(
      "section",
      { class: "panel notifications-panel", testid: "notifications-panel" },
      el("div", { class: "panel-head" }, el("h2", { text: "Webhook notifications" }), this.summary, reload),
      ...(canRead ? [] : [el("p", { class: "read-only-note", text: READ_ONLY_NOTE })]),
      el(
        "div",
        { class: "table-scroll" },
        el("table", { class: "notifications stack-table" }, el("thead", {}, headRow(COLUMNS)), this.body),
      ),
      this.outcome,
    );
  }

  /** Reads the list now and every 15 s after. */
  start(): void {
    if (!this.canRead) return;
    void this.load();
    this.timer ??= setInterval(() => void this.load(), REFRESH_MS);
  }

  async load(): Promise<void> {
    const answer = await callApi(`/api/notifications?since=${Date.now() - WINDOW_MS}`, this.token);
    if (!answer.answered) return this.note(unreachableText(answer.error));
    if (!answer.ok) return this.note(`The deliveries are not available: ${refusalText(answer.status, answer.body)}`);
    const reply = parseNotifications(answer.body);
    if (reply === null)
      return this.note("The mesh answered the deliveries in a shape this page does not know: reload the page.");
    this.note("");
    const now = Date.now();
    this.summary.textContent = notificationsSummary(reply);
    const rows = [...reply.deliveries].reverse().map((delivery) => {
      const cells = deliveryCells(delivery, now);
      const row = el(
        "tr",
        {
          class: `delivery delivery-${delivery.status}`,
          attrs: { "data-event": delivery.event_id, "data-status": delivery.status },
        },
        el("td", {}, el("code", { text: cells.event })),
        el("td", { text: cells.type }),
        el("td", { text: cells.target }),
        el("td", { text: cells.attempts }),
        el("td", { text: cells.status }),
        el("td", { class: "dim", text: cells.lastError }),
        el("td", { class: "ago", text: cells.when }),
      );
      return labelCells(row, COLUMNS);
    });
    this.body.replaceChildren(
      ...(rows.length > 0
        ? rows
        : [emptyRow(COLUMNS.length, "no webhook event in the last day (set MESH_WEBHOOK_URLS to send them)")]),
    );
  }

  private note(text: string): void {
    this.outcome.textContent = text;
  }
}
