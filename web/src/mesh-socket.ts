// A reconnecting socket to one room that parses every frame with its protocol schema and reports its health.
import PartySocket from "partysocket";
import type { z } from "zod";
import { type ErrorBody, type PartyName, parseMessage } from "../../protocol/index.ts";
import { initialHealth, isFinal, nextHealth, type SocketHealth } from "./socket-health.ts";

export type MeshSocketOptions<T, Out> = {
  party: PartyName;
  room: string;
  token: string;
  /** The union of messages this room sends to the page. */
  schema: z.ZodType<T>;
  /** Called on every open, first and after each reconnect, with a way to send. */
  onOpen?: (send: (message: Out) => void) => void;
  onMessage: (message: T) => void;
  /** A frame that did not parse: shown, never thrown. */
  onBadFrame: (error: ErrorBody) => void;
  onHealth: (health: SocketHealth) => void;
};

export type MeshSocket = { close(): void };

/** Backoff after a drop: quick enough that a refused link is reported within about two seconds. */
const RECONNECT = { minReconnectionDelay: 500, maxReconnectionDelay: 8000, reconnectionDelayGrowFactor: 1.5 };

/**
 * Each socket with a connection id (`_pk`) of its own: partysocket reuses one per instance, and after a
 * server stall PartyKit can lose the live socket of a reused name (docs/connection-names.md).
 */
class OwnIdWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[]) {
    const url = new URL(address);
    // getRandomValues, not randomUUID: the page may be served over plain http on a LAN (no secure context).
    url.searchParams.set(
      "_pk",
      Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join(""),
    );
    super(url, protocols);
  }
}

export function openMeshSocket<T, Out = never>(options: MeshSocketOptions<T, Out>): MeshSocket {
  const socket = new PartySocket({
    host: location.host,
    protocol: location.protocol === "https:" ? "wss" : "ws",
    party: options.party,
    room: options.room,
    query: { token: options.token },
    WebSocket: OwnIdWebSocket,
    ...RECONNECT,
  });
  let health = initialHealth;
  const report = (next: SocketHealth): void => {
    health = next;
    options.onHealth(health);
    // Retrying a refused link or a missing task would only spin.
    if (isFinal(health.phase)) socket.close();
  };
  socket.addEventListener("open", () => {
    report(nextHealth(health, { kind: "open" }));
    options.onOpen?.((message) => socket.send(JSON.stringify(message)));
  });
  socket.addEventListener("close", (event) => report(nextHealth(health, { kind: "close", code: event.code })));
  socket.addEventListener("message", (event: MessageEvent) => {
    const raw: unknown = event.data;
    const parsed = parseMessage(options.schema, typeof raw === "string" ? raw : new ArrayBuffer(0));
    if (parsed.ok) options.onMessage(parsed.value);
    else options.onBadFrame(parsed.error);
  });
  options.onHealth(health);
  return { close: () => socket.close() };
}
