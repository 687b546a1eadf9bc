// Small files with one job: no source or test file passes 400 lines as Biome formats it (docs/testing.md).
// A file that grows past it is split by job, not wrapped wider.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../launcher/dev-server.ts";

const MAX_LINES = 400;
const SOURCE = /^(agents|bench|bin|bridge|launcher|party|protocol|test|web\/src)\/.+\.(ts|mjs|js)$|^[^/]+\.(ts|mjs)$/;

function sourceFiles(): string[] {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  })
    .split("\n")
    .filter((file) => SOURCE.test(file) && existsSync(join(PROJECT_ROOT, file)));
}

describe("file size", () => {
  it(`keeps every source and test file at ${MAX_LINES} lines or fewer`, () => {
    const files = sourceFiles();
    // A broken filter would pass in silence: the repository holds hundreds of sources.
    expect(files.length).toBeGreaterThan(300);
    const long = files
      .map((file) => ({ file, lines: readFileSync(join(PROJECT_ROOT, file), "utf8").split("\n").length - 1 }))
      .filter((entry) => entry.lines > MAX_LINES)
      .map((entry) => `${entry.file}: ${entry.lines} lines`);
    expect(long).toEqual([]);
  });
});
