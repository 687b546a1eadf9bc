// Table rows both panels need: a header row and a one-cell "nothing here yet" row.
import { el } from "./element.ts";

export function headRow(names: readonly string[]): HTMLTableRowElement {
  return el("tr", {}, ...names.map((name) => el("th", { text: name })));
}

export function emptyRow(columns: number, text: string): HTMLTableRowElement {
  return el("tr", { class: "empty" }, el("td", { text, attrs: { colspan: String(columns) } }));
}
