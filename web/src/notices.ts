// Error notices under the header: small, dismissable ones for bad frames and room errors, one banner for a dead link.
import type { ErrorBody } from "../../protocol/index.ts";
import { el } from "./element.ts";

/** Notices kept on screen; a room that keeps erring should not bury the page. */
const MAX_NOTICES = 5;

export class Notices {
  readonly element: HTMLElement;
  private readonly banner: HTMLDivElement;
  private readonly list: HTMLDivElement;

  constructor() {
    this.banner = el("div", { class: "banner", testid: "banner", attrs: { role: "alert" } });
    this.banner.hidden = true;
    this.list = el("div", { class: "notice-list" });
    this.element = el("div", { class: "notices" }, this.banner, this.list);
  }

  /** A small error notice, newest first. */
  error(source: string, error: ErrorBody): void {
    const close = el("button", { class: "notice-close", text: "×", title: "dismiss", attrs: { type: "button" } });
    const notice = el(
      "div",
      { class: "notice", testid: "notice", attrs: { "data-code": error.code } },
      el("span", { class: "notice-source", text: source }),
      el("code", { text: error.code }),
      el("span", { class: "notice-message", text: error.message }),
      close,
    );
    close.addEventListener("click", () => notice.remove());
    this.list.prepend(notice);
    while (this.list.children.length > MAX_NOTICES) this.list.lastElementChild?.remove();
  }

  /** The one message that matters most now (e.g. the link is invalid); replaces any earlier one. */
  showBanner(text: string): void {
    this.banner.textContent = text;
    this.banner.hidden = false;
  }
}
