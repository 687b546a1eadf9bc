// Table rows the panels need: a header row, a one-cell "nothing here yet" row, and cells named after their columns.
import { el } from "./element.ts";

export function headRow(names: readonly string[]): HTMLTableRowElement {
  return el("tr", {}, ...names.map((name) => el("th", { text: name })));
}

export function emptyRow(columns: number, text: string): HTMLTableRowElement {
  return el("tr", { class: "empty" }, el("td", { text, attrs: { colspan: String(columns) } }));
}

/**
 * Names each cell of `row` after its column, in order: a narrow screen shows the table as stacked
 * rows, each cell under its name (`.stack-table` in page.css, docs/page.md "Narrow screens").
 */
export function labelCells(row: HTMLTableRowElement, names: readonly string[]): HTMLTableRowElement {
  [...row.cells].forEach((cell, i) => {
    const name = names[i];
    if (name !== undefined) cell.dataset.label = name;
  });
  return row;
}
