import type { AgentToRegistry, AgentToTask, PartyName } from "../../protocol/index.ts";

/**
 * Why the mesh refused to open a socket, from the HTTP status it answered the upgrade with
 * (README "Auth": 401 for a missing or wrong credential, 403 for one of the wrong role).
 */
export type RefusalReason = "unauthorized" | "forbidden" | "not_found" | "other";

/** The mesh answered the upgrade with an HTTP error instead of a socket. */
export type LinkRefusal = { reason: RefusalReason; status: number };

/**
 * A connect that failed or a socket that broke; `refusal` is set when the mesh said no (retrying with the same token
 * cannot help).
 */
export type LinkFailure = { message: string; refusal?: LinkRefusal };

/** What a link sends: one message of the agent's wires, serialised by the transport. */
export type LinkMessage = AgentToRegistry | AgentToTask;

/** A frame's payload in the form `parseMessage` reads; text frames arrive as strings. */
export type FrameData = string | ArrayBuffer | ArrayBufferView;

/**
 * A reconnecting connection to one room, as a link sees it (the MCP SDK's Transport, plus what a
 * reconnecting socket adds). The link is the message sequence on top; it never touches a socket.
 * Callbacks are set before `start()`.
 */
export interface LinkTransport {
  /** Starts connecting; reconnects by itself until closed, refused for good, or out of retries. */
  start(): void;
  /** Sends one message if the connection is open; false otherwise (never queued: every open starts with a hello). */
  send(message: LinkMessage): boolean;
  /** Closes for good: no more reconnects. */
  close(code: number, reason: string): void;
  /** Drops the current connection and connects again, with the retry count starting over. */
  reconnect(code: number, reason: string): void;
  /** Bytes written but not yet sent: senders hold back above a mark. */
  readonly bufferedAmount: number;
  /** True once every allowed retry has failed: the transport has stopped reconnecting. */
  readonly retriesExhausted: boolean;
  onopen?: () => void;
  onmessage?: (data: FrameData) => void;
  /** The connection closed (also after a failed connect); it reconnects unless the code is final. */
  onclose?: (code: number, reason: string) => void;
  onerror?: (failure: LinkFailure) => void;
}

/** Where a transport connects and when it stops trying. */
export interface LinkSpec {
  server: URL;
  /** Read at every (re)connect: an agent that enrolled presents its own credential from then on. */
  token: string | (() => string);
  party: typeof PartyName.registry | typeof PartyName.task;
  room: string;
  maxRetries: number;
  /** Close codes after which reconnecting is pointless (the room refused us for good). */
  finalCloseCodes: readonly number[];
}

/** Opens a transport for a link; tests pass one that returns an in-memory transport. */
export type OpenTransport = (spec: LinkSpec) => LinkTransport;

/** The typed reason for an HTTP status that refused an upgrade. */
export function refusalOf(status: number): LinkRefusal {
  const reason: RefusalReason =
    status === 401 ? "unauthorized" : status === 403 ? "forbidden" : status === 404 ? "not_found" : "other";
  return { reason, status };
}

/** Why a socket closed, for the log. */
export function describeClose(code: number, reason: string): string {
  return reason.length > 0 ? `code ${code}: ${reason}` : `code ${code}`;
}
