import type { ApplyOutcome } from "../../protocol/index.ts";

/** How long an agent may take to merge a branch into a checkout before the caller hears `internal`. */
const APPLY_TIMEOUT_MS = 60_000;

/**
 * `apply` requests handed to agents and waiting for their `branch.merged`, matched by request id
 * (comlink's way: replies carry the request's id). In memory: a registry restart fails the waiting
 * calls, and the caller may ask again (applying twice is a no-op).
 */
export class ApplyCalls {
  private readonly waiting = new Map<string, { agent: string; resolve: (outcome: ApplyOutcome) => void; timer: ReturnType<typeof setTimeout> }>();
  private next = 0;

  /** A new request id and the promise of its outcome. */
  open(agent: string): { requestId: string; outcome: Promise<ApplyOutcome> } {
    const requestId = `apply-${Date.now().toString(36)}-${(this.next++).toString(36)}`;
    const outcome = new Promise<ApplyOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, { ok: false, code: "internal", message: `agent ${agent} did not answer within ${APPLY_TIMEOUT_MS / 1000} s; nothing is known to have changed: try again`, files: [] }), APPLY_TIMEOUT_MS);
      this.waiting.set(requestId, { agent, resolve, timer });
    });
    return { requestId, outcome };
  }

  /** The agent answered; an answer from another agent than the one asked is ignored. */
  answer(agent: string, requestId: string, outcome: ApplyOutcome): void {
    if (this.waiting.get(requestId)?.agent === agent) this.settle(requestId, outcome);
  }

  /** The agent's socket closed: its calls fail now instead of at their timeout. */
  dropAgent(agent: string): void {
    for (const [requestId, call] of this.waiting) {
      if (call.agent === agent) this.settle(requestId, { ok: false, code: "internal", message: `agent ${agent} disconnected during apply; check its checkout and try again`, files: [] });
    }
  }

  private settle(requestId: string, outcome: ApplyOutcome): void {
    const call = this.waiting.get(requestId);
    if (call === undefined) return;
    clearTimeout(call.timer);
    this.waiting.delete(requestId);
    call.resolve(outcome);
  }
}
