import type { ApplyRequest, RegistryCommand } from "../../protocol/index.ts";
import { errorResponse, json } from "../http/responses.ts";
import type { AgentRequests } from "./agent-requests.ts";
import type { RegistryDecision, RegistryEvent } from "./registry-state.ts";

/** What the HTTP commands need of the registry room. */
export type RegistryCommandPorts = {
  /** Decides an event, carries out its effects, and gives the actor's reply. */
  run: (event: RegistryEvent) => Promise<RegistryDecision["reply"]>;
  requests: AgentRequests;
};

/** Answers a command posted to the registry by a task room or the operator's routes (docs/http-api.md). */
export async function answerCommand(command: RegistryCommand, ports: RegistryCommandPorts): Promise<Response> {
  const { run, requests } = ports;
  if (command.type === "apply.request") return apply(command, ports);
  if (command.type === "delivery.request") return json({ outcome: await requests.deliver(command) });
  if (command.type === "task.ended") {
    const reply = await run({
      type: "task-ended",
      taskId: command.task_id,
      agents: command.agents,
      ...(command.keep === undefined ? {} : { keep: command.keep }),
    });
    return json(reply !== undefined && "told" in reply ? reply : { told: [] });
  }
  if (command.type === "agent.revoke" || command.type === "agent.forget") {
    const reply = await run({
      type: "revoke-requested",
      name: command.name,
      forget: command.type === "agent.forget",
    });
    return reply !== undefined && "error" in reply ? errorResponse(reply.error.code, reply.error.message) : json(reply);
  }
  if (command.type === "dispatch.withdraw") {
    await run({ type: "dispatch-withdrawn", taskId: command.task_id });
    return json({ withdrawn: true });
  }
  if (command.type !== "dispatch.request") return errorResponse("unknown_type", "unknown registry command");
  const reply = await run({ type: "dispatch-requested", request: command });
  return json(reply !== undefined && "queued" in reply ? reply : { queued: true }, 202);
}

/** Asks the agent that ran an attempt to merge its branch into the user's checkout, and waits for its answer. */
async function apply(request: ApplyRequest, { run, requests }: RegistryCommandPorts): Promise<Response> {
  const reply = await run({ type: "apply-requested", request, requestId: requests.applyRequestId() });
  if (reply === undefined || !("asked" in reply))
    return reply !== undefined && "error" in reply
      ? errorResponse(reply.error.code, reply.error.message)
      : errorResponse("internal", "apply was not asked of the agent");
  return json({ outcome: await requests.mergeOutcome(reply.asked) });
}
