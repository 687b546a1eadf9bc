// The page's colours keep text readable (docs/page.md): every text colour against the backgrounds
// it is drawn on, in the light and the dark theme, at WCAG AA's 4.5:1 or better. Read from the
// stylesheets themselves, so a colour changed there is checked here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { contrast, type Theme, themesOf } from "./colour-contrast.ts";

/** A stylesheet of web/public, read. */
const themes = (file: string): { light: Theme; dark: Theme } =>
  themesOf(readFileSync(join(PROJECT_ROOT, "web/public", file), "utf8"));

const page = themes("page.css");
const taskPage = themes("task-page.css");
const ANSI = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

/** Text colour on background, by variable name (a value starting with # is a literal). */
function pairs(): [string, string][] {
  const text = ["fg", "muted", "accent", "ok", "bad", "warn"];
  const list: [string, string][] = [];
  for (const bg of ["bg", "panel", "subtle", "human-bg"]) for (const fg of text) list.push([fg, bg]);
  list.push(["error-fg", "error-bg"]);
  // Badges carry white text in both themes.
  for (const badge of ["queued", "running", "succeeded", "failed", "cancelled", "awaiting"])
    list.push(["#ffffff", badge]);
  // The log's colours on its background (the panel), and the default text on the ANSI backgrounds.
  for (const colour of ANSI)
    list.push([`ansi-${colour}`, "panel"], [`ansi-bright-${colour}`, "panel"], ["fg", `ansi-${colour}-bg`]);
  return list;
}

function colour(name: string, theme: "light" | "dark"): string {
  if (name.startsWith("#")) return name;
  const found =
    (theme === "dark" ? (page.dark.get(name) ?? taskPage.dark.get(name)) : undefined) ??
    page.light.get(name) ??
    taskPage.light.get(name);
  if (found === undefined) throw new Error(`--${name} is not defined as a #rrggbb colour in page.css or task-page.css`);
  return found;
}

describe("the page's colours", () => {
  it.each(["light", "dark"] as const)(
    "keep every text colour at 4.5:1 or better on its background, %s theme",
    (theme) => {
      const checked = pairs();
      expect(checked.length).toBe(55);
      const poor = checked
        .map(([fg, bg]) => ({ fg, bg, ratio: contrast(colour(fg, theme), colour(bg, theme)) }))
        .filter(({ ratio }) => ratio < 4.5)
        .map(({ fg, bg, ratio }) => `${fg} on ${bg}: ${ratio.toFixed(2)}:1`);
      expect(poor).toEqual([]);
    },
  );

  it("computes contrast as WCAG does", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
  });
});
