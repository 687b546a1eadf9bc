import { describe, expect, it } from "vitest";
import { matchesAnyGlob } from "../../agents/runtime/path-globs.ts";

describe("allowed_paths globs", () => {
  it.each([
    ["src/a.ts", "src/**", true],
    ["src/deep/er/a.ts", "src/**", true],
    ["src/.env", "src/**", true],
    ["src/a.ts", "src/", true],
    ["src/a.ts", "src", true],
    ["srcx/a.ts", "src", false],
    ["a.ts", "*.ts", true],
    ["lib/a.ts", "*.ts", false],
    ["lib/a.ts", "**/*.ts", true],
    ["a.ts", "**/*.ts", true],
    ["test/a.test.ts", "{src,test}/**", true],
    ["docs/a.md", "{src,test}/**", false],
    ["src/a1.ts", "src/a?.ts", true],
    ["src/a12.ts", "src/a?.ts", false],
    ["src/b.ts", "src/[ab].ts", true],
    ["src/c.ts", "src/[!ab].ts", true],
    ["src/a.ts", "src/[!ab].ts", false],
    ["README.md", "./README.md", true],
    ["../outside.ts", "**", false],
    ["a+b(1).ts", "a+b(1).ts", true],
    ["axb(1).ts", "a+b(1).ts", false],
  ])("%s against %s: %s", (path, glob, expected) => {
    expect(matchesAnyGlob(path, [glob])).toBe(expected);
  });

  it("matches when any glob does", () => {
    expect(matchesAnyGlob("test/x.ts", ["src/**", "test/**"])).toBe(true);
    expect(matchesAnyGlob("x.ts", [])).toBe(false);
  });
});
