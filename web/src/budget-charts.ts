// The budget's pictures (docs/page.md): a meter of spend against a limit, bars by tier or agent, and
// the last 30 days as columns. Built as plain DOM and SVG: three small shapes do not need a
// charting library, and each carries its numbers as text for screen readers and tooltips.
import { el } from "./element.ts";
import { scaleTop, share, usd } from "./money-format.ts";

const SVG = "http://www.w3.org/2000/svg";
export const money = usd;

/** Spend (and what is reserved on top) against a limit; `over` when it reached it. */
export function meter(
  label: string,
  spent: number,
  reserved: number,
  limit: number,
  limitName: string,
  testid: string,
): HTMLElement {
  // Nothing spent is an empty track, whatever the limit (docs/page.md "Money and scales").
  const over = limit > 0 && spent + reserved >= limit;
  const text = `${money(spent)} spent${reserved > 0 ? ` + ${money(reserved)} reserved` : ""} of ${money(limit)} ${limitName}`;
  return el(
    "div",
    { class: `meter${over ? " over" : ""}`, testid },
    el("div", { class: "meter-label" }, el("strong", { text: label }), " ", el("span", { text })),
    el(
      "div",
      {
        class: "meter-track",
        attrs: {
          role: "meter",
          "aria-label": `${label}: ${text}`,
          "aria-valuemin": "0",
          "aria-valuemax": String(limit),
          "aria-valuenow": String(spent + reserved),
        },
      },
      el("span", { class: "meter-spent", attrs: { style: `width: ${share(spent, limit)}` } }),
      el("span", { class: "meter-reserved", attrs: { style: `width: ${share(reserved, limit)}` } }),
    ),
  );
}

/** Horizontal bars, largest first, at most `max` of them, against a round scale of at least a cent. */
export function bars(title: string, values: Record<string, number>, testid: string, max = 8): HTMLElement {
  const entries = Object.entries(values)
    .filter(([, usd]) => usd > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, max);
  const top = scaleTop(entries[0]?.[1] ?? 0);
  return el(
    "div",
    { class: "bars", testid },
    el("h3", { text: title }),
    ...(entries.length === 0
      ? [el("p", { class: "dim", text: "nothing spent yet" })]
      : entries.map(([key, spent]) =>
          el(
            "div",
            { class: "bar-row", attrs: { "data-key": key } },
            el("span", { class: "bar-key", text: key }),
            el(
              "span",
              { class: "bar-track" },
              el("span", { class: "bar-fill", attrs: { style: `width: ${share(spent, top)}` } }),
            ),
            el("span", { class: "bar-value", text: usd(spent) }),
          ),
        )),
  );
}

/** One column per day, oldest first; the last is today; against a round scale of at least a cent. */
export function dayColumns(days: readonly { date: string; spent_usd: number }[], testid: string): HTMLElement {
  const width = 300;
  const height = 80;
  const gap = 2;
  const most = Math.max(...days.map((day) => day.spent_usd), 0);
  const top = scaleTop(most);
  const column = days.length === 0 ? 0 : width / days.length;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "days-chart");
  svg.setAttribute("role", "img");
  const total = days.reduce((sum, day) => sum + day.spent_usd, 0);
  svg.setAttribute(
    "aria-label",
    `spend per day, ${days[0]?.date ?? ""} to ${days.at(-1)?.date ?? ""}: ${usd(total)} in all, at most ${usd(most)} a day`,
  );
  days.forEach((day, i) => {
    const h = Math.max(day.spent_usd > 0 ? 1.5 : 0, (day.spent_usd / top) * (height - 2));
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", String(i * column + gap / 2));
    rect.setAttribute("y", String(height - h));
    rect.setAttribute("width", String(Math.max(1, column - gap)));
    rect.setAttribute("height", String(h));
    rect.setAttribute("class", i === days.length - 1 ? "day today" : "day");
    rect.dataset.date = day.date;
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = `${day.date}: ${usd(day.spent_usd)}`;
    rect.append(tip);
    svg.append(rect);
  });
  return el(
    "div",
    { class: "days", testid },
    el("h3", { text: "Last 30 days" }),
    svg,
    el(
      "div",
      { class: "days-axis" },
      el("span", { text: days[0]?.date.slice(5) ?? "" }),
      el("span", {
        testid: "budget-days-scale",
        title: `the most in a day: ${usd(most)}`,
        text: `full height ${usd(top)}/day`,
      }),
      el("span", { text: "today" }),
    ),
  );
}
