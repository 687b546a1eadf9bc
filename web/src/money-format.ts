// Dollar amounts as the page shows them, and the scale its bars are drawn against. Costs run from
// a demo's $0.0007 to a day's $20: cents alone would print the small ones as "$0.00" and draw a
// full bar over nothing (docs/page.md "Money and scales").

/** Cents from a cent up; four decimals below it; "<$0.0001" for less; "$0.00" only for nothing. */
export function usd(amount: number): string {
  if (amount === 0) return "$0.00";
  const sign = amount < 0 ? "-" : "";
  const size = Math.abs(amount);
  if (size >= 0.01) return `${sign}$${size.toFixed(2)}`;
  if (size >= 0.0001) return `${sign}$${size.toFixed(4)}`;
  return `${sign}<$0.0001`;
}

/** The smallest top a chart's scale has: sub-cent spend draws as a sliver, not as a full bar. */
export const SCALE_FLOOR_USD = 0.01;

/** A round top for a chart whose largest value is `largest`: 1, 2 or 5 times a power of ten, at least the floor. */
export function scaleTop(largest: number): number {
  if (!(largest > SCALE_FLOOR_USD)) return SCALE_FLOOR_USD;
  const power = 10 ** Math.floor(Math.log10(largest));
  for (const step of [1, 2, 5, 10]) {
    // Rounded to the power's own decimals, so 0.3 is not 0.30000000000000004.
    const top = Number((step * power).toPrecision(12));
    if (top >= largest) return top;
  }
  return 10 * power;
}

/** `part` of `whole` as a CSS width, between 0% and 100%; nothing of nothing is 0%. */
export function share(part: number, whole: number): string {
  if (!(part > 0) || !(whole > 0)) return "0%";
  return `${Math.min(100, (part / whole) * 100).toFixed(1)}%`;
}
