import type { TaskCommand } from "../../protocol/index.ts";
import type { TaskEvent } from "./task-actor.ts";

/**
 * The event a POSTed command is to the task actor (docs/task-room.md). `held` names the attempts whose agents are
 * connected now, asked only for a cancel. A create is not here: the room answers it with 201 and no resume first.
 */
export function eventOfCommand(
  command: Exclude<TaskCommand, { type: "task.create" }>,
  held: () => number[],
): TaskEvent {
  switch (command.type) {
    case "attempt.lost":
      return { type: "agent-lost", attempt: command.attempt, agent: command.agent, reason: command.reason };
    case "attempt.unserved":
      return {
        type: "attempt-unserved",
        attempt: command.attempt,
        message: command.message,
        ...(command.failure_class === undefined ? {} : { failureClass: command.failure_class }),
      };
    case "budget.halted":
      return { type: "budget-halted", attempt: command.attempt, message: command.message };
    case "task.watch":
      return { type: "watch-requested", dependent: command.dependent };
    case "task.dependency":
      return { type: "dependency-heard", news: command };
    case "task.delivered":
      return {
        type: "delivery-answered",
        attempt: command.attempt,
        mode: command.mode,
        outcome: { ok: true, value: command.outcome },
      };
    case "task.apply":
      return { type: "apply-requested", ...(command.attempt === undefined ? {} : { attempt: command.attempt }) };
    case "task.resolve":
      return {
        type: "person-decided",
        command: {
          decision: command.decision,
          ...(command.guidance === undefined ? {} : { guidance: command.guidance }),
          ...(command.executor === undefined ? {} : { executor: command.executor }),
        },
      };
    case "task.cancel":
      return {
        type: "cancel-requested",
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        held: held(),
      };
  }
}
