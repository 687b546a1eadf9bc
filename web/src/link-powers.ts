// What the page's credential may do. The orchestrator token and operator links act (cancel, decide,
// apply); task links and dashboard links only watch, and the page shows them no action buttons.
import { isTaskLink } from "./fragment-params.ts";

/** Prefix of a dashboard link (party/auth/viewer-link.ts mints it); task links: fragment-params.ts. */
const DASHBOARD_LINK_PREFIX = "v1.dashboard.";

export function mayAct(token: string): boolean {
  return !isTaskLink(token) && !token.startsWith(DASHBOARD_LINK_PREFIX);
}

/** The one line a read-only page shows in place of its buttons. */
export const READ_ONLY_NOTE =
  'This link only watches. To cancel, decide or apply, open an operator link: the one npm start prints, or POST /api/links with {"operator": true} and the orchestrator token.';
