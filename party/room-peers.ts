import type * as Party from "partykit/server";
import { TiersReply, type AgentSelector, type BudgetCommand, type DirectoryCommand, type ExecutorTier, type RegistryCommand, type TaskCommand } from "../protocol/index.ts";

/** The registry room's one instance: every agent and every dispatch goes through it. */
export const REGISTRY_ROOM_ID = "main";
/** The task directory's one instance: names and the task list. */
export const DIRECTORY_ROOM_ID = "main";
/** The budget actor's one instance: the cost circuit breaker. */
export const BUDGET_ROOM_ID = "main";

/**
 * Calls from one room to another go over HTTP with the orchestrator credential, so the target
 * checks them exactly like a request from outside.
 */
async function post(parties: Party.Context["parties"], party: string, roomId: string, token: string, body: unknown): Promise<Response> {
  const target = parties[party];
  if (target === undefined) throw new Error(`party '${party}' is not declared in partykit.json`);
  return target.get(roomId).fetch({
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
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
  const registry = parties.registry;
  if (registry === undefined) return new Set();
  const query = new URLSearchParams({ view: "tiers" });
  if (selector.by === "name") query.set("name", selector.name);
  if (selector.by === "kind") query.set("kind", selector.kind);
  const response = await registry.get(REGISTRY_ROOM_ID).fetch(`/?${query}`, { headers: { authorization: `Bearer ${token}` } });
  const parsed = TiersReply.safeParse(await response.json().catch(() => null));
  return new Set(parsed.success ? parsed.data.tiers : []);
}
