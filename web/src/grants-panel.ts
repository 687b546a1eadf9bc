// The dashboard's connected apps (docs/connect-claude-ai.md): each OAuth grant with its client, scope,
// redirect host, when it was granted and last used, and, for a credential that may act, a revoke
// button that asks for a second click first. The list is read when the page opens and on "reload"
// (grants change only when a person approves or revokes, so nothing streams them).
import type { OAuthGrantSummary } from "../../protocol/index.ts";
import { callApi } from "./api-request.ts";
import { el } from "./element.ts";
import { grantCells, grantsSummary, parseGrantList, revokeOutcome } from "./grants-model.ts";
import { READ_ONLY_NOTE } from "./link-powers.ts";
import { emptyRow, headRow } from "./table-rows.ts";
import { refusalText, unreachableText } from "./work-facts.ts";

const GRANTS_PATH = "/api/oauth/grants";
/** How long a revoke button waits for the confirming click before it resets. */
const CONFIRM_WINDOW_MS = 5000;

export class GrantsPanel {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly summary: HTMLSpanElement;
  private readonly outcome: HTMLParagraphElement;
  private readonly columns: string[];
  private count = 0;

  /** `canAct`: the page's token is the orchestrator token or an operator link (the only ones the list answers). */
  constructor(
    private readonly token: string,
    private readonly canAct: boolean,
  ) {
    this.columns = ["app", "scope", "code went to", "granted", "last used", ...(canAct ? [""] : [])];
    this.body = el(
      "tbody",
      { testid: "grants" },
      emptyRow(
        this.columns.length,
        canAct ? "reading the grants…" : "connected apps are listed for operator links only",
      ),
    );
    this.summary = el("span", { class: "dim", testid: "grants-summary" });
    this.outcome = el("p", { class: "action-outcome", testid: "grants-outcome", attrs: { role: "status" } });
    const reload = el("button", { text: "reload", attrs: { type: "button", "data-testid": "grants-reload" } });
    reload.addEventListener("click", () => void this.load());
    reload.hidden = !canAct;
    this.element = el(
      "section",
      { class: "panel grants-panel", testid: "grants-panel" },
      el("div", { class: "panel-head" }, el("h2", { text: "Connected apps" }), this.summary, reload),
      ...(canAct ? [] : [el("p", { class: "read-only-note", text: READ_ONLY_NOTE })]),
      el(
        "div",
        { class: "table-scroll" },
        el("table", { class: "grants" }, el("thead", {}, headRow(this.columns)), this.body),
      ),
      this.outcome,
    );
  }

  /** Reads the list and shows it (a read-only link gets nothing: the API would refuse it). */
  async load(): Promise<void> {
    if (!this.canAct) return;
    const answer = await callApi(GRANTS_PATH, this.token);
    if (!answer.answered) return this.note(unreachableText(answer.error));
    if (!answer.ok) return this.note(`The grants are not available: ${refusalText(answer.status, answer.body)}`);
    const grants = parseGrantList(answer.body);
    if (grants === null)
      return this.note("The mesh answered the grants list in a shape this page does not know: reload the page.");
    const now = Date.now();
    this.count = grants.length;
    this.summary.textContent = grantsSummary(this.count);
    this.body.replaceChildren(
      ...(grants.length > 0 ? grants.map((grant) => this.row(grant, now)) : [this.emptyList()]),
    );
  }

  private note(text: string): void {
    this.outcome.textContent = text;
  }

  private emptyList(): HTMLTableRowElement {
    return emptyRow(this.columns.length, "no app connected: add this mesh as a connector in Claude.ai or ChatGPT");
  }

  private row(grant: OAuthGrantSummary, now: number): HTMLTableRowElement {
    const cells = grantCells(grant, now);
    const row = el(
      "tr",
      { attrs: { "data-grant": grant.id } },
      el("td", { class: "grant-client", text: cells.client, title: `client id ${grant.client_id}` }),
      el("td", {}, el("code", { text: cells.scope })),
      el("td", { text: cells.redirect }),
      el("td", { class: "ago", text: cells.created, title: new Date(grant.created_at).toLocaleString() }),
      el("td", {
        class: "ago",
        text: cells.lastUsed,
        ...(grant.last_used_at === undefined ? {} : { title: new Date(grant.last_used_at).toLocaleString() }),
      }),
    );
    if (this.canAct) row.append(el("td", {}, this.revokeButton(grant, row)));
    return row;
  }

  private revokeButton(grant: OAuthGrantSummary, row: HTMLTableRowElement): HTMLButtonElement {
    const label = "revoke";
    const button = el("button", {
      class: "danger",
      text: label,
      attrs: { type: "button", "data-testid": "grant-revoke", "aria-label": `revoke ${grant.client_name}` },
    });
    let armed: ReturnType<typeof setTimeout> | null = null;
    const disarm = (): void => {
      if (armed !== null) clearTimeout(armed);
      armed = null;
      button.textContent = label;
      button.classList.remove("armed");
    };
    button.addEventListener("click", () => {
      if (button.disabled) return;
      if (armed === null) {
        button.textContent = "click again to revoke";
        button.classList.add("armed");
        this.note(
          `Revoking ends ${grant.client_name}'s access at once; it must ask again to reconnect. Click again within ${CONFIRM_WINDOW_MS / 1000} s to confirm.`,
        );
        armed = setTimeout(() => {
          disarm();
          this.note("");
        }, CONFIRM_WINDOW_MS);
        return;
      }
      disarm();
      void this.revoke(grant, row, button);
    });
    return button;
  }

  private async revoke(grant: OAuthGrantSummary, row: HTMLTableRowElement, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    this.note("revoking…");
    const answer = await callApi(`${GRANTS_PATH}/${encodeURIComponent(grant.id)}`, this.token, { method: "DELETE" });
    button.disabled = false;
    if (!answer.answered) return this.note(unreachableText(answer.error));
    if (revokeOutcome(answer.status) === "kept")
      return this.note(`Not revoked: ${refusalText(answer.status, answer.body)}`);
    row.remove();
    this.count = Math.max(0, this.count - 1);
    this.summary.textContent = grantsSummary(this.count);
    if (this.count === 0) this.body.replaceChildren(this.emptyList());
    this.note(`Revoked ${grant.client_name}: its tokens no longer open the mesh.`);
  }
}
