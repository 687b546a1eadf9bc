/** What a line of a unified diff is, for colouring it (pure: unit-tested in test/web). */
export type DiffLineKind = "file" | "hunk" | "add" | "remove" | "context" | "meta";

export function diffLineKind(line: string): DiffLineKind {
  if (line.startsWith("diff --git ")) return "file";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+++ ") || line.startsWith("--- ") || line.startsWith("index ") || line.startsWith("new file") || line.startsWith("deleted file") || line.startsWith("GIT binary patch") || line.startsWith("similarity") || line.startsWith("rename ")) return "meta";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "remove";
  return "context";
}

/** Lines shown at most; past that the page says how to read the rest (the route gives all of it). */
export const MAX_SHOWN_DIFF_LINES = 5000;
