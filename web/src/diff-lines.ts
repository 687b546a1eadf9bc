// Splits a unified diff (as `git diff --binary` writes it) into lines that each say what they are,
// for colouring. Pure, so it is unit-tested in test/web.

/** What a line of a unified diff is. */
export type DiffLineKind = "file" | "hunk" | "add" | "remove" | "context" | "meta";

export type DiffLine = { kind: DiffLineKind; text: string };

/** Lines shown at most; past that the page says how to read the rest (the route gives all of it). */
export const MAX_SHOWN_DIFF_LINES = 5000;

const HUNK_HEADER = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * Classifies every line of `diff`. It counts each hunk's lines from its `@@` header rather than
 * judging lines by their first characters alone: a removed line that reads `-- x` is written
 * `--- x`, which would otherwise pass for a file header.
 */
export function diffLines(diff: string): DiffLine[] {
  const lines = diff.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let oldLeft = 0;
  let newLeft = 0;
  return lines.map((text): DiffLine => {
    if (oldLeft > 0 || newLeft > 0) {
      const kind = hunkLineKind(text);
      if (kind === "remove" || kind === "context") oldLeft--;
      if (kind === "add" || kind === "context") newLeft--;
      return { kind, text };
    }
    if (text.startsWith("diff --git ")) return { kind: "file", text };
    const hunk = HUNK_HEADER.exec(text);
    if (hunk !== null) {
      oldLeft = Number(hunk[1] ?? "1");
      newLeft = Number(hunk[2] ?? "1");
      return { kind: "hunk", text };
    }
    // File headers, modes, renames, "\ No newline at end of file", binary patches: all outside hunks.
    return { kind: "meta", text };
  });
}

function hunkLineKind(text: string): DiffLineKind {
  if (text.startsWith("+")) return "add";
  if (text.startsWith("-")) return "remove";
  if (text.startsWith("\\")) return "meta";
  return "context";
}
