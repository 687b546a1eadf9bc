// The page's JavaScript stays under the budget, and Mermaid stays out of the first load (issue 17).
import { describe, expect, it } from "vitest";
import { MAX_INITIAL_GZIP_BYTES, measurePageWeight } from "../../launcher/page-weight.ts";

describe("the page's weight", () => {
  it("loads under 600 KB of gzipped JavaScript, with Mermaid only on demand", async () => {
    const weight = await measurePageWeight();
    expect(weight.initialGzipBytes).toBeGreaterThan(10_000);
    expect(weight.initialGzipBytes).toBeLessThan(MAX_INITIAL_GZIP_BYTES);
    expect(weight.initialPackages).not.toContain("mermaid");
    expect(weight.initialPackages).toEqual(expect.arrayContaining(["ansi_up", "diff2html"]));
    // Mermaid's own code is there, behind import().
    expect(weight.lazyGzipBytes).toBeGreaterThan(100_000);
  }, 60_000);
});
