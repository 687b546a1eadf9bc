import type * as Party from "partykit/server";
import { TiersReply, type AgentSelector, type BudgetCommand, type DirectoryCommand, type ExecutorTier, type RegistryCommand, type TaskCommand } from "../protocol/index.ts";

/** The registry room's one instance: every agent and every dispatch goes through it. */
export const REGISTRY_ROOM_ID = "main";
/** The task directory's one instance: names and the task list. */
export const DIRECTORY_ROOM_ID = "main";
/** The budget actor's one instance: the cost circuit breaker. */
export const BUDGET_ROOM_ID = "main";

/**
 * Calls a room over HTTP with the orchestrator credential (from the edge or from another room), so
 * the target checks it exactly like a request from outside. `path` holds the query: "/?view=…".
 */
export async function fetchRoom(parties: Party.Context["parties"], party: string, roomId: string, token: string, path = "/", init: { method?: string; body?: unknown } = {}): Promise<Response> {
  const target = parties[party];
  if (target === undefined) throw new Error(`party '${party}' is not declared in partykit.json`);
  // The stub drops `init` for an empty path, and wants paths to start with "/".
  return target.get(roomId).fetch(path.startsWith("/") ? path : `/${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

function post(parties: Party.Context["parties"], party: string, roomId: string, token: string, body: unknown): Promise<Response> {
  return fetchRoom(parties, party, roomId, token, "/", { method: "POST", body });
}

export function sendToRegistry(parties: Party.Context["parties"], token: string, command: RegistryCommand): Promise<Response> {
  return post(parties, "registry", REGISTRY_ROOM_ID, token, command);
}

export function sendToDirectory(parties: Party.Context["parties"], token: string, command: DirectoryCommand): Promise<Response> {
  return post(parties, "directory", DIRECTORY_ROOM_ID, token, command);
}

export function sendToBudget(parties: Party.Context["parties"], token: string, command: BudgetCommand): Promise<Response> {
  return post(parties, "budget", BUDGET_ROOM_ID, token, command);
}

export function sendToTask(parties: Party.Context["parties"], token: string, taskId: string, command: TaskCommand): Promise<Response> {
  return post(parties, "task", taskId, token, command);
}

/** Tiers that online agents the selector allows serve now; empty when the registry cannot say. */
export async function servedTiers(parties: Party.Context["parties"], token: string, selector: AgentSelector): Promise<Set<ExecutorTier>> {
  const query = new URLSearchParams({ view: "tiers" });
  if (selector.by === "name") query.set("name", selector.name);
  if (selector.by === "kind") query.set("kind", selector.kind);
  const response = await fetchRoom(parties, "registry", REGISTRY_ROOM_ID, token, `/?${query}`).catch(() => null);
  if (response === null) return new Set();
  const parsed = TiersReply.safeParse(await response.json().catch(() => null));
  return new Set(parsed.success ? parsed.data.tiers : []);
}
