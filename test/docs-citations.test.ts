// Every `docs/…` page a comment or a document cites is in the repository: a reader who clones it can
// follow each one (docs/README.md is the index).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../launcher/dev-server.ts";

const CITATION = /(?<![\w/.-])docs\/[\w./-]+\.(?:md|png)/g;
/** A line that is prose: a comment in code, or any line of a Markdown file. */
const COMMENT = /^\s*(\/\/|\*|\/\*|#)|\s\/\/\s/;

function citations(): Array<{ file: string; line: number; path: string }> {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: PROJECT_ROOT, encoding: "utf8" })
    .split("\n")
    .filter((file) => /\.(ts|mjs|js|md|sh)$/.test(file) || file === ".ci/run");
  const found: Array<{ file: string; line: number; path: string }> = [];
  for (const file of files) {
    if (!existsSync(join(PROJECT_ROOT, file))) continue;
    const markdown = file.endsWith(".md");
    readFileSync(join(PROJECT_ROOT, file), "utf8").split("\n").forEach((text, index) => {
      if (!markdown && !COMMENT.test(text)) return;
      for (const match of text.matchAll(CITATION)) found.push({ file, line: index + 1, path: match[0].replace(/[.]+$/, "") });
    });
  }
  return found;
}

describe("docs/ citations", () => {
  const all = citations();

  it("finds the citations (the scan itself works)", () => {
    expect(all.some((citation) => citation.path === "docs/budget.md")).toBe(true);
  });

  it("every cited docs/ page exists", () => {
    const missing = all.filter((citation) => !existsSync(join(PROJECT_ROOT, citation.path))).map((c) => `${c.file}:${c.line} cites ${c.path}`);
    expect(missing).toEqual([]);
  });

  it("docs/README.md lists every page in docs/", () => {
    const index = readFileSync(join(PROJECT_ROOT, "docs/README.md"), "utf8");
    const pages = execFileSync("git", ["ls-files", "docs"], { cwd: PROJECT_ROOT, encoding: "utf8" }).split("\n").filter((file) => file.endsWith(".md") && file !== "docs/README.md");
    expect(pages.filter((page) => !index.includes(page.slice("docs/".length)))).toEqual([]);
  });
});
