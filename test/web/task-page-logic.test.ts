// The task page's pure parts (docs/page.md): ANSI lines, the log's plain text and file name, which log
// rows a scroll position shows, the diff layout's default, what a credential may do, the vendored CSS.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LogLine } from "../../protocol/index.ts";
import { ansiLineHtml, hasAnsi, stripAnsi } from "../../web/src/ansi-line.ts";
import { initialDiffLayout } from "../../web/src/diff-layout.ts";
import { mayAct } from "../../web/src/link-powers.ts";
import { logFileName, logPlainText } from "../../web/src/log-export.ts";
import { LOG_ROW_PX } from "../../web/src/log-view.ts";
import { rowWindow } from "../../web/src/row-window.ts";

const ROOT = join(import.meta.dirname, "../..");
const line = (seq: number, text: string): LogLine => ({ seq, text, stream: "stdout", ts: 0, attempt: 1 });

describe("ANSI lines", () => {
  it("turns colour codes into ansi_up's classes and escapes the text", () => {
    expect(ansiLineHtml("\x1b[31mred\x1b[0m <b>&")).toBe('<span class="ansi-red-fg">red</span> &lt;b&gt;&amp;');
    expect(ansiLineHtml("\x1b[1;92;44mbold\x1b[0m")).toBe(
      '<span style="font-weight:bold" class="ansi-bright-green-fg ansi-blue-bg">bold</span>',
    );
  });

  it("renders each line on its own: a colour left open does not leak into the next line", () => {
    expect(ansiLineHtml("\x1b[32mstarts green")).toBe('<span class="ansi-green-fg">starts green</span>');
    expect(ansiLineHtml("plain after")).toBe("plain after");
    // A line cut inside an escape shows its text and drops the fragment, and the next line is plain.
    expect(ansiLineHtml("cut \x1b[3")).toBe("cut ");
    expect(ansiLineHtml("next")).toBe("next");
  });

  it("strips every escape for plain text, keeping a hyperlink's visible text", () => {
    expect(stripAnsi("\x1b[31mred\x1b[0m and \x1b[1;38;5;208morange\x1b[m")).toBe("red and orange");
    expect(stripAnsi("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ \x1b]0;title\x07x")).toBe("link x");
    expect(stripAnsi("\x1b[2K\x1b[1Gprogress\x1b(B")).toBe("progress");
    expect(hasAnsi("plain")).toBe(false);
    expect(stripAnsi("plain")).toBe("plain");
  });
});

describe("the log as a file", () => {
  it("is every line in order without colour codes, ending in a newline", () => {
    expect(logPlainText([line(0, "\x1b[31mfirst\x1b[0m"), line(1, ""), line(2, "third")])).toBe("first\n\nthird\n");
    expect(logPlainText([])).toBe("");
  });

  it("is named after its task", () => {
    expect(logFileName("01JABC")).toBe("task-01JABC.log");
    expect(logFileName("a/b c")).toBe("task-a_b_c.log");
  });
});

describe("the virtualised log's rows", () => {
  it("renders only the rows around the middle of a 100,000-line log when scrolled there", () => {
    const total = 100_000;
    const middle = 50_000;
    const { start, end } = rowWindow(middle * LOG_ROW_PX, 540, LOG_ROW_PX, total, 30);
    expect(start).toBe(middle - 30);
    expect(end).toBe(middle + 540 / LOG_ROW_PX + 1 + 30);
    expect(end - start).toBeLessThan(100);
  });

  it("stops at the ends", () => {
    expect(rowWindow(0, 540, LOG_ROW_PX, 10, 30)).toEqual({ start: 0, end: 10 });
    expect(rowWindow(99_999 * LOG_ROW_PX, 540, LOG_ROW_PX, 100_000, 30)).toEqual({ start: 99_969, end: 100_000 });
    expect(rowWindow(0, 540, LOG_ROW_PX, 0, 30)).toEqual({ start: 0, end: 0 });
  });
});

describe("the diff's layout", () => {
  it("keeps the person's choice, else is unified below 800 px and side by side above", () => {
    expect(initialDiffLayout("side-by-side", 375)).toBe("side-by-side");
    expect(initialDiffLayout("line-by-line", 1400)).toBe("line-by-line");
    expect(initialDiffLayout(null, 375)).toBe("line-by-line");
    expect(initialDiffLayout("garbage", 1280)).toBe("side-by-side");
  });
});

describe("what a page credential may do", () => {
  it("lets the orchestrator token and operator links act, never task or dashboard links", () => {
    expect(mayAct("orchestrator-token-0123456789")).toBe(true);
    expect(mayAct("v1.operator.1900000000.sig")).toBe(true);
    expect(mayAct("v1.task-01JABC.1900000000.sig")).toBe(false);
    expect(mayAct("v1.dashboard.1900000000.sig")).toBe(false);
  });
});

describe("the vendored diff2html stylesheet", () => {
  it("is the installed version's, byte for byte", () => {
    expect(readFileSync(join(ROOT, "web/public/diff2html.min.css"), "utf8")).toBe(
      readFileSync(join(ROOT, "node_modules/diff2html/bundles/css/diff2html.min.css"), "utf8"),
    );
  });
});
