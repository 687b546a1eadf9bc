import { randomUUID } from "node:crypto";
import PartySocket from "partysocket";
import WS from "ws";
import {
  type FrameData,
  type LinkFailure,
  type LinkMessage,
  type LinkSpec,
  type LinkTransport,
  refusalOf,
} from "./link-transport.ts";

const MIN_RECONNECT_DELAY_MS = 500;
const MAX_RECONNECT_DELAY_MS = 5000;
/** Above this many bytes waiting in the socket, senders hold back instead of piling up memory. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Opens the link transport over partysocket and `ws`: a reconnecting socket to one room of the mesh, with bounded
 * retries.
 */
export function openMeshSocket(spec: LinkSpec): LinkTransport {
  return new MeshSocket(spec);
}

/**
 * partysocket does the reconnecting (jittered, capped backoff); this class only adapts its events
 * to the transport's callbacks and turns a refused upgrade into a typed refusal. Nothing is ever
 * queued while it is closed: every open must start with a hello, so a queued message would arrive first.
 */
class MeshSocket implements LinkTransport {
  onopen?: () => void;
  onmessage?: (data: FrameData) => void;
  onclose?: (code: number, reason: string) => void;
  onerror?: (failure: LinkFailure) => void;
  private socket: PartySocket | undefined;
  /** The HTTP status that answered the current connect's upgrade instead of a socket, if any. */
  private refusedWith: number | undefined;

  constructor(private readonly spec: LinkSpec) {}

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  get retriesExhausted(): boolean {
    return this.socket !== undefined && this.socket.retryCount >= this.spec.maxRetries;
  }

  start(): void {
    if (this.socket !== undefined) return;
    const { spec } = this;
    const finalCodes = new Set(spec.finalCloseCodes);
    const socket = new PartySocket({
      host: spec.server.host,
      protocol: spec.server.protocol === "https:" ? "wss" : "ws",
      party: spec.party,
      room: spec.room,
      query: () => ({ token: typeof spec.token === "function" ? spec.token() : spec.token }),
      WebSocket: this.refusalRecordingSocket(),
      maxRetries: spec.maxRetries,
      maxEnqueuedMessages: 0,
      // Jittered per socket, so agents that lost the same server do not all come back in one burst; capped.
      minReconnectionDelay: MIN_RECONNECT_DELAY_MS * (1 + Math.random()),
      maxReconnectionDelay: MAX_RECONNECT_DELAY_MS,
      shouldReconnectOnClose: (event) => !finalCodes.has(event.code),
    });
    socket.addEventListener("open", () => this.onopen?.());
    socket.addEventListener("message", (event) => this.onmessage?.(frameData(event)));
    socket.addEventListener("close", (event) => this.onclose?.(event.code, event.reason));
    socket.addEventListener("error", (event) => {
      const status = this.refusedWith;
      this.refusedWith = undefined;
      this.onerror?.(
        status === undefined
          ? { message: event.message }
          : { message: `Unexpected server response: ${status}`, refusal: refusalOf(status) },
      );
    });
    this.socket = socket;
  }

  send(message: LinkMessage): boolean {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== socket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  close(code: number, reason: string): void {
    this.socket?.close(code, reason);
  }

  reconnect(code: number, reason: string): void {
    this.socket?.reconnect(code, reason);
  }

  /**
   * The `ws` class partysocket builds each connection with. It records the HTTP status of a refused
   * upgrade ('unexpected-response'), so the refusal reaches the link as a typed value, not as text to match.
   */
  private refusalRecordingSocket() {
    const record = (status: number | undefined): void => {
      this.refusedWith = status;
    };
    return class RefusalRecordingSocket extends WS {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(withOwnConnectionId(address), protocols);
        record(undefined);
        this.once("unexpected-response", (_request, response) => {
          record(response.statusCode ?? 0);
          // With a listener, ws leaves the refused handshake to us: ending it emits 'error' and 'close' as usual.
          this.terminate();
        });
      }
    };
  }
}

/**
 * The address with a connection id of its own. partysocket names every reconnect of one instance with
 * the same `_pk`, and PartyKit keeps one socket per name: after a server stall, the backlog of one
 * agent's connects and closes under one name left its live socket unknown to the room, which then
 * never answered its hello (docs/connection-names.md). A fresh name per socket ends that.
 */
export function withOwnConnectionId(address: string | URL): URL {
  const url = new URL(address);
  url.searchParams.set("_pk", randomUUID());
  return url;
}

/** A frame's payload in the form `parseMessage` reads; text frames arrive as strings. */
function frameData(event: MessageEvent): FrameData {
  const data: unknown = event.data;
  if (typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data;
  return new ArrayBuffer(0);
}
