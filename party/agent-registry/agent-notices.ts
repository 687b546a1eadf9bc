import type { NotificationEvent } from "../../protocol/index.ts";

/**
 * The webhook event of an agent the watchdog gave up (docs/notifications.md): its attempts are
 * retried elsewhere, but the machine may need a person. One per loss: the id carries when it was lost.
 */
export function agentLostNotice(agent: string, reason: string, running: number, now: number): NotificationEvent {
  const retried =
    running === 0 ? "it was running nothing" : `${running} attempt(s) it was running are retried on other agents`;
  return {
    id: `agent.lost:${agent}:${now}`,
    type: "agent.lost",
    at: now,
    reason: `${reason}; ${retried}`.slice(0, 2000),
    agent: { name: agent, running },
  };
}
