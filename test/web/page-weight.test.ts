// The page's JavaScript stays under its budget; diff2html stays out of the first load, and Mermaid
// out of the page altogether (the task's path is drawn by the page itself: docs/page.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { MAX_INITIAL_GZIP_BYTES, measurePageWeight } from "../../launcher/page-weight.ts";

describe("the page's weight", () => {
  it("loads under 600 KB of gzipped JavaScript, with diff2html only on demand and no Mermaid at all", async () => {
    const weight = await measurePageWeight();
    expect(weight.initialGzipBytes).toBeGreaterThan(10_000);
    expect(weight.initialGzipBytes).toBeLessThan(MAX_INITIAL_GZIP_BYTES);
    expect(weight.initialPackages).not.toContain("mermaid");
    expect(weight.initialPackages).toEqual(expect.arrayContaining(["ansi_up"]));
    expect(weight.initialPackages).not.toContain("diff2html");
    // diff2html's own code (with highlight.js) is there, behind import(); Mermaid's 40 chunks are not.
    expect(weight.lazyGzipBytes).toBeGreaterThan(50_000);
    expect(weight.lazyGzipBytes).toBeLessThan(300_000);
  }, 60_000);
});

describe("the page's copy of diff2html's stylesheet", () => {
  it("is the installed package's, byte for byte (the page has no CSS bundler)", () => {
    const vendored = readFileSync(join(PROJECT_ROOT, "web/public/diff2html.min.css"));
    expect(
      vendored.equals(readFileSync(join(PROJECT_ROOT, "node_modules/diff2html/bundles/css/diff2html.min.css"))),
    ).toBe(true);
  });
});
