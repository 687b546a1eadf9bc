/**
 * A socket's message budget: at most `perSecond` messages in any one-second window (docs/agent-identity.md: a
 * socket that floods is closed with 1008).
 */
export const FLOOD_CLOSE_CODE = 1008;

/** Messages a second each kind of socket may send (docs/rooms.md "Flood limits"). */
export const FLOOD_LIMITS = {
  /** A viewer or dashboard only subscribes: a few messages, ever. */
  viewer: 50,
  /** An agent on its task room streams batches of up to 512 lines: far above any real stream. */
  agentOnTask: 2000,
  /** An agent (or a task room's dispatch socket) on the registry: heartbeats, releases, answers. */
  agentOnRegistry: 100,
} as const;

export class FloodGuard {
  private windowStart = 0;
  private count = 0;

  constructor(readonly perSecond: number = FLOOD_LIMITS.viewer) {}

  /** Counts one message; false once the window holds more than allowed. */
  admit(now: number): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count += 1;
    return this.count <= this.perSecond;
  }
}
