import type {
  ApplyOutcome,
  DeliveryOutcome,
  DeliveryRequest,
  RegistryToAgent,
  TaskDelivered,
} from "../../protocol/index.ts";
import { applyCalls, deliveryCalls } from "./agent-calls.ts";

/**
 * How many deliveries wait per agent for it to come back; past this the oldest is dropped (its task keeps
 * agent_offline).
 */
const MAX_WAITING_PER_AGENT = 50;

export type AgentRequestPorts = {
  connected: (agent: string) => boolean;
  send: (agent: string, message: RegistryToAgent) => void;
  /** Tells a task room a delivery's late outcome (a retry after its agent came back). */
  toTask: (taskId: string, message: TaskDelivered) => Promise<unknown>;
};

/**
 * What the registry asks of one agent on a task room's behalf and waits for (docs/delivery.md): `apply` (the registry
 * actor refuses it while the agent is offline, and asks) and deliveries. A delivery that found its agent offline is
 * answered `agent_offline` now and sent again when the agent says hello; its outcome then goes to the task room. Those
 * waiting deliveries live in memory: a registry restart forgets them, and the task keeps `agent_offline`.
 */
export class AgentRequests {
  private readonly applies = applyCalls();
  private readonly deliveries = deliveryCalls();
  private readonly waiting = new Map<string, DeliveryRequest[]>();
  /** Outcomes of `branch.merge`s sent, by request id, until the apply that asked takes its own. */
  private readonly merges = new Map<string, Promise<ApplyOutcome>>();

  constructor(private readonly ports: AgentRequestPorts) {}

  /** A fresh request id for an apply's `branch.merge` (the registry actor puts it in the message). */
  applyRequestId(): string {
    return this.applies.newId();
  }

  /** Waits for `agent`'s `branch.merged` to `requestId`; called before the `branch.merge` is sent. */
  expectMerge(agent: string, requestId: string): void {
    this.merges.set(requestId, this.applies.open(agent, requestId).outcome);
  }

  /** What the agent answered to the `branch.merge` of `requestId` (or why it did not); asked once. */
  mergeOutcome(requestId: string): Promise<ApplyOutcome> {
    const outcome = this.merges.get(requestId);
    this.merges.delete(requestId);
    return (
      outcome ??
      Promise.resolve({
        ok: false,
        code: "internal",
        message: `no branch.merge ${requestId} was sent; try again`,
        files: [],
      })
    );
  }

  /** Asks the agent holding a result to deliver it; offline, the request waits for its hello. */
  async deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    if (!this.ports.connected(request.agent)) {
      const queue = [
        ...(this.waiting.get(request.agent) ?? []).filter((kept) => kept.task_id !== request.task_id),
        request,
      ].slice(-MAX_WAITING_PER_AGENT);
      this.waiting.set(request.agent, queue);
      return {
        ok: false,
        code: "agent_offline",
        message: `agent ${request.agent} holds the result and is not connected now; the delivery is tried again when it reconnects (while this mesh server runs)`,
      };
    }
    const { type: _type, agent, ...fields } = request;
    const call = this.deliveries.open(agent);
    this.ports.send(agent, { type: "branch.deliver", request_id: call.requestId, ...fields });
    return call.outcome;
  }

  /** The agent said hello: the deliveries waiting for it go now, their outcomes to their task rooms. */
  reconnected(agent: string): void {
    const queue = this.waiting.get(agent) ?? [];
    this.waiting.delete(agent);
    for (const request of queue) {
      void this.deliver(request).then((outcome) =>
        this.ports.toTask(request.task_id, {
          type: "task.delivered",
          attempt: request.attempt,
          mode: request.mode,
          outcome,
        }),
      );
    }
  }

  answerApply(agent: string, requestId: string, outcome: ApplyOutcome): void {
    this.applies.answer(agent, requestId, outcome);
  }

  answerDelivery(agent: string, requestId: string, outcome: DeliveryOutcome): void {
    this.deliveries.answer(agent, requestId, outcome);
  }

  /** The agent's socket closed: its calls fail now instead of at their timeout. */
  dropAgent(agent: string): void {
    this.applies.dropAgent(agent);
    this.deliveries.dropAgent(agent);
  }
}
