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
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  })
    .split("\n")
    .filter((file) => /\.(ts|mjs|js|md|sh)$/.test(file) || file === ".ci/run");
  const found: Array<{ file: string; line: number; path: string }> = [];
  for (const file of files) {
    if (!existsSync(join(PROJECT_ROOT, file))) continue;
    const markdown = file.endsWith(".md");
    readFileSync(join(PROJECT_ROOT, file), "utf8")
      .split("\n")
      .forEach((text, index) => {
        if (!markdown && !COMMENT.test(text)) return;
        for (const match of text.matchAll(CITATION))
          found.push({ file, line: index + 1, path: match[0].replace(/[.]+$/, "") });
      });
  }
  return found;
}

/**
 * The sources and documents a reader who clones the repository reads: the folders, README.md, CI and top-level configs.
 */
const SWEPT =
  /^(agents|bench|bin|bridge|docs|launcher|party|protocol|test|web)\/.+\.(ts|js|mjs|html|css|md|sh|plist|service)$|^README\.md$|^\.ci\/run$|^[^/]+\.(ts|mjs|js)$/;
/** Notes that live outside the repository: a citation of one leads nowhere for a reader of it. */
const OUTSIDE_NOTES = ["INTERFACES", "FORMATS", "PRICES", "PLATFORM", "STYLE", "OBSERVED"];
const NOTE_CITATION = new RegExp(`\\b(?:${OUTSIDE_NOTES.join("|")})\\.md\\b`);
/**
 * An issue number: the word "issue" and a number, or a hash and a number that ends a phrase (in brackets,
 * before a full stop); an attempt's "#1 sonnet", an entity's "&#60;" and a colour's "#ffffff" are not.
 */
const ISSUE_CITATION = [
  /\bissues?\s+#?\d+/i,
  /\b(?:PR|pull request)\s*#\d+/i,
  /(?<![\w&#/])#\d{1,4}(?=[)\],;:]|\.(?!\d)|\s*$)/,
];

function citesOutside(): { scanned: number; found: string[] } {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  })
    .split("\n")
    .filter((file) => SWEPT.test(file) && !/(^|\/)(node_modules|dist|\.cache)\//.test(file));
  const found: string[] = [];
  for (const file of files) {
    if (!existsSync(join(PROJECT_ROOT, file))) continue;
    readFileSync(join(PROJECT_ROOT, file), "utf8")
      .split("\n")
      .forEach((text, index) => {
        const note = text.match(NOTE_CITATION)?.[0];
        const issue = ISSUE_CITATION.map((pattern) => text.match(pattern)?.[0]).find((match) => match !== undefined);
        if (note !== undefined || issue !== undefined) found.push(`${file}:${index + 1} cites ${note ?? issue}`);
      });
  }
  return { scanned: files.length, found };
}

describe("docs/ citations", () => {
  const all = citations();

  it("finds the citations (the scan itself works)", () => {
    expect(all.some((citation) => citation.path === "docs/budget.md")).toBe(true);
  });

  it("every cited docs/ page exists", () => {
    const missing = all
      .filter((citation) => !existsSync(join(PROJECT_ROOT, citation.path)))
      .map((c) => `${c.file}:${c.line} cites ${c.path}`);
    expect(missing).toEqual([]);
  });

  it("no source or document cites an issue number or a note outside the repository (cite docs/ instead)", () => {
    const { scanned, found } = citesOutside();
    // The scan read the repository (a filter that matched nothing would pass vacuously).
    expect(scanned).toBeGreaterThan(300);
    expect(found).toEqual([]);
  });

  it("the outside-citation scan recognises what it must and spares what it must", () => {
    const cites = (text: string) => NOTE_CITATION.test(text) || ISSUE_CITATION.some((pattern) => pattern.test(text));
    const number = String(12);
    for (const text of [
      `// why (issue ${number})`,
      `issues ${number} and 13`,
      `see #${number}.`,
      `(#${number})`,
      `// ${OUTSIDE_NOTES[0]}.md "Scheduling"`,
      `PR #${number} did it`,
    ]) {
      expect(cites(text), text).toBe(true);
    }
    for (const text of [
      '"#1 sonnet on vm-1"',
      "&#60;script&#62;",
      'contrast("#000000", "#ffffff")',
      "docs/cli-formats.md",
      "github.com/o/r/issues/12",
      "v1.2 #3 deepseek",
    ]) {
      expect(cites(text), text).toBe(false);
    }
  });

  it("docs/README.md lists every page in docs/", () => {
    const index = readFileSync(join(PROJECT_ROOT, "docs/README.md"), "utf8");
    const pages = execFileSync("git", ["ls-files", "docs"], { cwd: PROJECT_ROOT, encoding: "utf8" })
      .split("\n")
      .filter((file) => file.endsWith(".md") && file !== "docs/README.md");
    expect(pages.filter((page) => !index.includes(page.slice("docs/".length)))).toEqual([]);
  });
});
