import type { ApplyOutcome, DeliveryOutcome } from "../../protocol/index.ts";

/** How long an agent may take to merge a branch into a checkout before the caller hears `internal`. */
const APPLY_TIMEOUT_MS = 60_000;
/**
 * How long a delivery may take: a push of a large result over a slow link, then `gh pr create`
 * (the agent bounds each at 300 s and 120 s), with room to spare (docs/delivery.md).
 */
const DELIVERY_TIMEOUT_MS = 480_000;

type CallKind<Outcome> = {
  prefix: string;
  timeoutMs: number;
  /** The outcome a caller hears when the agent does not answer in time, or its socket closes. */
  unanswered: (agent: string, why: "timeout" | "disconnected") => Outcome;
};

/**
 * Requests handed to agents (`apply`, delivery) and waiting for their answer, matched by request id
 * (comlink's way: replies carry the request's id). In memory: a registry restart fails the waiting
 * calls, and the caller may ask again (applying or pushing the same commit twice is a no-op).
 */
export class AgentCalls<Outcome> {
  private readonly waiting = new Map<
    string,
    { agent: string; resolve: (outcome: Outcome) => void; timer: ReturnType<typeof setTimeout> }
  >();
  private next = 0;

  constructor(private readonly kind: CallKind<Outcome>) {}

  /** A request id no other call of this kind has had. */
  newId(): string {
    return `${this.kind.prefix}-${Date.now().toString(36)}-${(this.next++).toString(36)}`;
  }

  /** Waits for `agent`'s answer to `requestId` (a new id unless given): the promise of its outcome. */
  open(agent: string, requestId: string = this.newId()): { requestId: string; outcome: Promise<Outcome> } {
    const outcome = new Promise<Outcome>((resolve) => {
      const timer = setTimeout(
        () => this.settle(requestId, this.kind.unanswered(agent, "timeout")),
        this.kind.timeoutMs,
      );
      this.waiting.set(requestId, { agent, resolve, timer });
    });
    return { requestId, outcome };
  }

  /** The agent answered; an answer from another agent than the one asked is ignored. */
  answer(agent: string, requestId: string, outcome: Outcome): void {
    if (this.waiting.get(requestId)?.agent === agent) this.settle(requestId, outcome);
  }

  /** The agent's socket closed: its calls fail now instead of at their timeout. */
  dropAgent(agent: string): void {
    for (const [requestId, call] of this.waiting) {
      if (call.agent === agent) this.settle(requestId, this.kind.unanswered(agent, "disconnected"));
    }
  }

  private settle(requestId: string, outcome: Outcome): void {
    const call = this.waiting.get(requestId);
    if (call === undefined) return;
    clearTimeout(call.timer);
    this.waiting.delete(requestId);
    call.resolve(outcome);
  }
}

export const applyCalls = (): AgentCalls<ApplyOutcome> =>
  new AgentCalls<ApplyOutcome>({
    prefix: "apply",
    timeoutMs: APPLY_TIMEOUT_MS,
    unanswered: (agent, why) => ({
      ok: false,
      code: "internal",
      message:
        why === "timeout"
          ? `agent ${agent} did not answer within ${APPLY_TIMEOUT_MS / 1000} s; nothing is known to have changed: try again`
          : `agent ${agent} disconnected during apply; check its checkout and try again`,
      files: [],
    }),
  });

export const deliveryCalls = (): AgentCalls<DeliveryOutcome> =>
  new AgentCalls<DeliveryOutcome>({
    prefix: "deliver",
    timeoutMs: DELIVERY_TIMEOUT_MS,
    unanswered: (agent, why) => ({
      ok: false,
      code: why === "timeout" ? "internal" : "agent_offline",
      message:
        why === "timeout"
          ? `agent ${agent} did not answer within ${DELIVERY_TIMEOUT_MS / 1000} s; the branch may or may not be on the remote: look with git ls-remote`
          : `agent ${agent} disconnected while delivering; the branch may or may not be on the remote: look with git ls-remote`,
    }),
  });
