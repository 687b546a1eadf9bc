import { describe, expect, it } from "vitest";
import { diffLines } from "../../web/src/diff-lines.ts";

const kinds = (diff: string): string[] => diffLines(diff).map((line) => line.kind);

describe("diffLines", () => {
  it("tells file headers, hunks, additions, removals and context apart", () => {
    const diff = ["diff --git a/x.ts b/x.ts", "index 1..2 100644", "--- a/x.ts", "+++ b/x.ts", "@@ -1,2 +1,2 @@", "-old", "+new", " same", ""].join("\n");
    expect(kinds(diff)).toEqual(["file", "meta", "meta", "meta", "hunk", "remove", "add", "context"]);
  });

  it("reads a removed '-- x' and an added '++ y' inside a hunk as a removal and an addition, not as file headers", () => {
    const diff = ["diff --git a/q.sql b/q.sql", "--- a/q.sql", "+++ b/q.sql", "@@ -1 +1 @@", "--- a comment", "+++ counter", ""].join("\n");
    expect(kinds(diff)).toEqual(["file", "meta", "meta", "hunk", "remove", "add"]);
  });

  it("ends a hunk after the lines its header counts, so the next file's headers are headers again", () => {
    const diff = [
      "diff --git a/a b/a",
      "--- a/a",
      "+++ b/a",
      "@@ -1,2 +1,3 @@",
      " one",
      "+two",
      " three",
      "\\ No newline at end of file",
      "diff --git a/b b/b",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/b",
      "@@ -0,0 +1 @@",
      "+hello",
    ].join("\n");
    expect(kinds(diff)).toEqual(["file", "meta", "meta", "hunk", "context", "add", "context", "meta", "file", "meta", "meta", "meta", "hunk", "add"]);
  });

  it("keeps a binary patch's data and a 'no newline' marker inside a hunk as meta", () => {
    const diff = ["diff --git a/i.png b/i.png", "GIT binary patch", "literal 4", "LcmZQzU|;|M00aO5", "", "literal 0", "HcmV?d00001", "", "diff --git a/t b/t", "--- a/t", "+++ b/t", "@@ -1 +1 @@", "-x", "\\ No newline at end of file", "+y"].join("\n");
    expect(kinds(diff)).toEqual(["file", "meta", "meta", "meta", "meta", "meta", "meta", "meta", "file", "meta", "meta", "hunk", "remove", "meta", "add"]);
  });

  it("keeps each line's text as it was, and gives nothing for an empty diff", () => {
    expect(diffLines("@@ -1 +1 @@\n-<b>a</b>\n+<i>&</i>\n").map((line) => line.text)).toEqual(["@@ -1 +1 @@", "-<b>a</b>", "+<i>&</i>"]);
    expect(diffLines("")).toEqual([]);
  });
});
