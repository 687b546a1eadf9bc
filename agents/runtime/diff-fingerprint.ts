import { DIFF_CHUNK_CHARS, MAX_DIFF_FINGERPRINT } from "../../protocol/index.ts";

/**
 * Short hashes of the lines a diff adds and removes, each with its file and sign, so consensus can
 * tell candidates that made the same change from ones that merely touched the same file
 * (docs/escalation.md, consensus). FNV-1a: fast and stable; collisions only blur a similarity score.
 */
export function diffFingerprint(diff: string): string[] {
  const hashes = new Set<string>();
  let file = "";
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ")) {
      file = line.slice(4).replace(/^b\//, "");
      continue;
    }
    if (line.startsWith("--- ") || line.startsWith("diff --git ") || line.startsWith("@@")) continue;
    if ((line.startsWith("+") || line.startsWith("-")) && line.trim().length > 1) hashes.add(fnv1a(`${file}\0${line}`));
    if (hashes.size >= MAX_DIFF_FINGERPRINT) break;
  }
  return [...hashes];
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** The diff in pieces for `attempt.diff` frames. */
export function diffPieces(diff: string): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < diff.length; at += DIFF_CHUNK_CHARS) pieces.push(diff.slice(at, at + DIFF_CHUNK_CHARS));
  return pieces;
}
