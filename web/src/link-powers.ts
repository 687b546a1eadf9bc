// What the page's credential may do. The orchestrator token and operator links act (cancel, decide,
// apply); task links and dashboard links only watch, and the page shows them no action buttons.

/** Prefixes of the read-only viewer links (party/auth/viewer-link.ts mints them). */
const READ_ONLY_PREFIXES = ["v1.task-", "v1.dashboard."] as const;

export function mayAct(token: string): boolean {
  return !READ_ONLY_PREFIXES.some((prefix) => token.startsWith(prefix));
}

/** The one line a read-only page shows in place of its buttons. */
export const READ_ONLY_NOTE = 'This link only watches. To cancel, decide or apply, open an operator link: the one npm start prints, or POST /api/links with {"operator": true} and the orchestrator token.';
