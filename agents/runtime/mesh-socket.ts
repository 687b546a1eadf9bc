import PartySocket from "partysocket";
import WS from "ws";
import type { AgentToRegistry, AgentToTask } from "../../protocol/index.ts";

export interface MeshSocketOptions {
  server: URL;
  token: string;
  party: "registry" | "task";
  room: string;
  maxRetries: number;
  /** Close codes after which reconnecting is pointless (the room refused us for good). */
  finalCloseCodes: readonly number[];
}

const MIN_RECONNECT_DELAY_MS = 500;
const MAX_RECONNECT_DELAY_MS = 5000;
/** Above this many bytes waiting in the socket, senders hold back instead of piling up memory. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * A reconnecting socket to one room of the mesh, with bounded retries. Nothing is ever queued
 * while it is closed: every open must start with a hello, so a queued message would arrive first.
 */
export function openMeshSocket(options: MeshSocketOptions): PartySocket {
  const finalCodes = new Set(options.finalCloseCodes);
  return new PartySocket({
    host: options.server.host,
    protocol: options.server.protocol === "https:" ? "wss" : "ws",
    party: options.party,
    room: options.room,
    query: { token: options.token },
    WebSocket: WS,
    maxRetries: options.maxRetries,
    maxEnqueuedMessages: 0,
    // Jittered per socket, so agents that lost the same server do not all come back in one burst; capped.
    minReconnectionDelay: MIN_RECONNECT_DELAY_MS * (1 + Math.random()),
    maxReconnectionDelay: MAX_RECONNECT_DELAY_MS,
    shouldReconnectOnClose: (event) => !finalCodes.has(event.code),
  });
}

/** Sends one message if the socket is open; false otherwise (never queued). */
export function sendMessage(socket: PartySocket, message: AgentToRegistry | AgentToTask): boolean {
  if (socket.readyState !== socket.OPEN) return false;
  socket.send(JSON.stringify(message));
  return true;
}

/** A frame's payload in the form `parseMessage` reads; text frames arrive as strings. */
export function frameData(event: MessageEvent): string | ArrayBuffer | ArrayBufferView {
  const data: unknown = event.data;
  if (typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data;
  return new ArrayBuffer(0);
}

/** Why a socket closed or failed, for the log. */
export function describeClose(code: number, reason: string): string {
  return reason.length > 0 ? `code ${code}: ${reason}` : `code ${code}`;
}
