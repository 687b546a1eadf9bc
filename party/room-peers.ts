import type * as Party from "partykit/server";
import {
  type AgentSelector,
  type BudgetCommand,
  type DirectoryCommand,
  ErrorBody,
  type ExecutorTier,
  PartyName,
  type RegistryCommand,
  type Result,
  refuse,
  SINGLETON_ROOM_ID,
  type TaskCommand,
  TiersReply,
} from "../protocol/index.ts";

type Parties = Party.Context["parties"];

/**
 * The query that marks a task room's socket on the registry (task-room/registry-socket.ts): no dashboard snapshots;
 * dispatch requests in.
 */
export const PEER_QUERY = "peer=task";

/**
 * Calls a room over HTTP with the orchestrator credential (from the edge or from another room), so
 * the target checks it exactly like a request from outside. `path` holds the query: "/?view=…".
 */
export async function fetchRoom(
  parties: Parties,
  party: PartyName,
  roomId: string,
  token: string,
  path = "/",
  init: { method?: string; body?: unknown } = {},
): Promise<Response> {
  const target = parties[party];
  if (target === undefined) throw new Error(`party '${party}' is not declared in partykit.json`);
  // The stub drops `init` for an empty path, and wants paths to start with "/".
  return target.get(roomId).fetch(path.startsWith("/") ? path : `/${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** Calls a room and reads its JSON reply: the value, or the room's typed error (never a throw). */
export async function askRoom<T>(
  parties: Parties,
  party: PartyName,
  roomId: string,
  token: string,
  path = "/",
  init: { method?: string; body?: unknown } = {},
): Promise<Result<T>> {
  let response: Response;
  try {
    response = await fetchRoom(parties, party, roomId, token, path, init);
  } catch (error) {
    return refuse(
      "internal",
      `the ${party} room could not be reached: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return refuse("internal", `the ${party} room answered ${response.status} with no JSON: ${text.slice(0, 200)}`);
  }
  if (response.ok) return { ok: true, value: body as T };
  const error = ErrorBody.safeParse((body as { error?: unknown } | null)?.error);
  return error.success
    ? { ok: false, error: error.data }
    : refuse("internal", `the ${party} room answered ${response.status}`);
}

const post = <T>(
  parties: Parties,
  party: PartyName,
  roomId: string,
  token: string,
  body: unknown,
): Promise<Result<T>> => askRoom<T>(parties, party, roomId, token, "/", { method: "POST", body });

export function sendToRegistry(parties: Parties, token: string, command: RegistryCommand): Promise<Result<unknown>> {
  return post(parties, PartyName.registry, SINGLETON_ROOM_ID, token, command);
}

export function sendToDirectory(parties: Parties, token: string, command: DirectoryCommand): Promise<Result<unknown>> {
  return post(parties, PartyName.directory, SINGLETON_ROOM_ID, token, command);
}

export function sendToBudget(parties: Parties, token: string, command: BudgetCommand): Promise<Result<unknown>> {
  return post(parties, PartyName.budget, SINGLETON_ROOM_ID, token, command);
}

export function sendToTask(
  parties: Parties,
  token: string,
  taskId: string,
  command: TaskCommand,
): Promise<Result<unknown>> {
  return post(parties, PartyName.task, taskId, token, command);
}

/** Tiers that online agents the selector allows serve now; empty when the registry cannot say. */
export async function servedTiers(parties: Parties, token: string, selector: AgentSelector): Promise<ExecutorTier[]> {
  const query = new URLSearchParams({ view: "tiers" });
  if (selector.by === "name") query.set("name", selector.name);
  if (selector.by === "kind") query.set("kind", selector.kind);
  const reply = await askRoom<unknown>(parties, PartyName.registry, SINGLETON_ROOM_ID, token, `/?${query}`);
  const parsed = reply.ok ? TiersReply.safeParse(reply.value) : null;
  return parsed?.success ? parsed.data.tiers : [];
}
