/**
 * The one home of party names (as partykit.json declares them) and of the singleton rooms' ids.
 * Rooms, the edge, agents and the page all address rooms through these.
 */
export const PartyName = {
  /** One room per task; the room id is the task's ULID. */
  task: "task",
  /** The agent registry: every agent's socket and every dispatch. */
  registry: "registry",
  /** The task directory: names and the task list. */
  directory: "directory",
  /** The budget actor: the cost circuit breaker. */
  budget: "budget",
  /** The fleet feed: what dashboards follow of the agents, fed by the registry (which serves agents only). */
  fleet: "fleet",
  /** The audit log: every state-changing call, bounded (docs/http-api.md). */
  audit: "audit",
  /** The OAuth grants: clients, codes and grants of remote MCP clients (docs/oauth.md). */
  oauth: "oauth",
  /** The trace exporter: a bounded queue of spans for the OTLP collector, and its counters (docs/traces.md). */
  traces: "traces",
  /** The notification outbox: webhook events kept and delivered with retries (docs/notifications.md). */
  notifications: "notifications",
} as const;
export type PartyName = (typeof PartyName)[keyof typeof PartyName];

/** The id of each singleton room (registry, directory, budget, fleet): there is one instance of each. */
export const SINGLETON_ROOM_ID = "main";
