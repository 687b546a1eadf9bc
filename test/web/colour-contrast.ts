// WCAG contrast between the colours a stylesheet defines (docs/page.md): the page's stylesheets and
// the consent page's are checked with the same reading and the same formula.

/** Custom property name → `#rrggbb`. */
export type Theme = Map<string, string>;

/** The custom properties of a stylesheet's first `:root` (light) and of its dark-scheme `:root`. */
export function themesOf(css: string): { light: Theme; dark: Theme } {
  const darkAt = css.indexOf("@media (prefers-color-scheme: dark)");
  const lightBlock = css.slice(Math.max(0, css.indexOf(":root {")), darkAt);
  const darkBlock = css.slice(darkAt, css.indexOf("}\n}", darkAt));
  const read = (block: string): Theme =>
    new Map([...block.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)].map((m) => [m[1] ?? "", m[2] ?? ""]));
  return { light: read(lightBlock), dark: read(darkBlock) };
}

function luminance(hex: string): number {
  const [r = 0, g = 0, b = 0] = [1, 3, 5]
    .map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG's contrast ratio of two `#rrggbb` colours, 1 to 21. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}
