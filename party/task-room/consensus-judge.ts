import type { Attempt, ConsensusDecision } from "../../protocol/index.ts";

/**
 * Judges a consensus round on evidence, on content (docs/escalation.md): only candidates that
 * passed (the CLI succeeded and the acceptance check held) can win; among them the one whose changed
 * lines the others share most, by content (each attempt reports hashes of the lines its diff adds
 * and removes), then the cheapest, then the earliest. Candidates without fingerprints (no git
 * repository) are compared by the files they changed.
 */
export function judgeConsensus(candidates: readonly Attempt[]): ConsensusDecision | null {
  const passing = candidates.filter((a) => a.status === "succeeded");
  const reasons: string[] = [];
  for (const a of candidates)
    if (a.status !== "succeeded")
      reasons.push(
        `attempt ${a.n} (${a.tier}) did not pass: ${a.failure_class ?? a.status}${a.acceptance ? `, acceptance exit ${a.acceptance.exit_code ?? "none"}` : ""}`,
      );
  if (passing.length === 0) return null;
  const agreement = new Map(
    passing.map((a) => [a.n, passing.filter((b) => b !== a).reduce((sum, b) => sum + similarity(a, b), 0)]),
  );
  const score = (a: Attempt): number => agreement.get(a.n) ?? 0;
  const ranked = [...passing].sort((a, b) => score(b) - score(a) || a.cost_usd - b.cost_usd || a.n - b.n);
  const winner = ranked[0];
  if (winner === undefined) return null;
  reasons.unshift(
    `attempt ${winner.n} (${winner.tier}) passed${winner.acceptance ? ` its acceptance check (${winner.acceptance.command})` : ""}`,
  );
  if (passing.length > 1) {
    const others = passing.filter((a) => a !== winner);
    const shares = others.map((b) => `${Math.round(similarity(winner, b) * 100)}% with attempt ${b.n}`).join(", ");
    reasons.push(`its changes agree with the other passing candidates: ${shares}`);
    const tied = others.filter((b) => score(b) === score(winner));
    if (tied.length > 0)
      reasons.push(
        `as much agreement as attempt ${tied.map((b) => b.n).join(", ")}; cheaper ($${winner.cost_usd.toFixed(4)}) or earlier`,
      );
  }
  return { winner: winner.n, reasons };
}

/** Jaccard similarity of two attempts' changed lines (or changed files when either has no fingerprint). */
export function similarity(a: Attempt, b: Attempt): number {
  const bothHaveLines = a.diff_fingerprint !== undefined && b.diff_fingerprint !== undefined;
  const left = new Set(bothHaveLines ? a.diff_fingerprint : (a.changed_files ?? []));
  const right = new Set(bothHaveLines ? b.diff_fingerprint : (b.changed_files ?? []));
  if (left.size === 0 && right.size === 0) return 1;
  let shared = 0;
  for (const item of left) if (right.has(item)) shared++;
  return shared / (left.size + right.size - shared);
}
