// A socket's connection phase as a pure reducer: tells a refused link from a dropped connection.

/** Where one socket stands; `refused` and `not_found` are final: the page stops retrying. */
export type SocketPhase = "connecting" | "live" | "reconnecting" | "refused" | "not_found";

export type SocketHealth = {
  phase: SocketPhase;
  /** Whether this socket ever opened: a link that worked once is not called invalid. */
  everOpened: boolean;
  /** Whether a connection is open right now. */
  openNow: boolean;
  /** Opens that failed in a row. */
  failedOpens: number;
};

export type SocketEvent = { kind: "open" } | { kind: "close"; code: number };

/**
 * A refused upgrade (401/403) looks like a socket that closes before it opens; this many in a row, never opened, means
 * the link is bad.
 */
export const REFUSED_AFTER_FAILED_OPENS = 3;

/** Close codes the rooms use to say "stop" (protocol/errors.ts `CloseCode`). */
const CLOSE_NOT_FOUND = 4404;
const CLOSE_FORBIDDEN = 4403;

export const initialHealth: SocketHealth = { phase: "connecting", everOpened: false, openNow: false, failedOpens: 0 };

export function nextHealth(health: SocketHealth, event: SocketEvent): SocketHealth {
  if (isFinal(health.phase)) return health;
  if (event.kind === "open") return { phase: "live", everOpened: true, openNow: true, failedOpens: 0 };
  if (event.code === CLOSE_NOT_FOUND) return { ...health, phase: "not_found", openNow: false };
  if (event.code === CLOSE_FORBIDDEN) return { ...health, phase: "refused", openNow: false };
  if (health.openNow) return { ...health, phase: "reconnecting", openNow: false, failedOpens: 0 };
  const failedOpens = health.failedOpens + 1;
  if (!health.everOpened && failedOpens >= REFUSED_AFTER_FAILED_OPENS)
    return { ...health, phase: "refused", failedOpens };
  return { ...health, phase: health.everOpened ? "reconnecting" : "connecting", failedOpens };
}

export function isFinal(phase: SocketPhase): boolean {
  return phase === "refused" || phase === "not_found";
}

/** What the header shows for all the page's sockets together. */
export type PageConnection = "connecting" | "live" | "reconnecting" | "offline";

/** A socket told its room is gone no longer counts; a refused one takes the whole page offline. */
export function pageConnection(phases: readonly SocketPhase[]): PageConnection {
  if (phases.includes("refused")) return "offline";
  const active = phases.filter((phase) => phase !== "not_found");
  if (active.length === 0) return "offline";
  if (active.every((phase) => phase === "live")) return "live";
  return active.includes("reconnecting") ? "reconnecting" : "connecting";
}
