/**
 * A socket's message budget: at most `perSecond` messages in any one-second window (INTERFACES.md
 * "Agent identity and limits": a socket that floods is closed with 1008).
 */
export const FLOOD_CLOSE_CODE = 1008;

export class FloodGuard {
  private windowStart = 0;
  private count = 0;

  constructor(readonly perSecond = 50) {}

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
