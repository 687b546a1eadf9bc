import { describe, expect, it } from "vitest";
import { diffLineKind } from "../../web/src/diff-lines.ts";

describe("diffLineKind", () => {
  it("tells file headers, hunks, additions, removals and context apart", () => {
    const diff = ["diff --git a/x.ts b/x.ts", "index 1..2 100644", "--- a/x.ts", "+++ b/x.ts", "@@ -1 +1 @@", "-old", "+new", " same", "GIT binary patch"];
    expect(diff.map(diffLineKind)).toEqual(["file", "meta", "meta", "meta", "hunk", "remove", "add", "context", "meta"]);
  });
});
