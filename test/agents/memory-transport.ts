// An in-memory link transport: a test plays the room (opens, frames in, drops, refusals) and reads
// what the link sent, with no server and no socket. It mirrors partysocket's event order.
import {
  type FrameData,
  type LinkFailure,
  type LinkMessage,
  type LinkSpec,
  type LinkTransport,
  type OpenTransport,
  refusalOf,
} from "../../agents/runtime/link-transport.ts";

export class MemoryTransport implements LinkTransport {
  onopen?: () => void;
  onmessage?: (data: FrameData) => void;
  onclose?: (code: number, reason: string) => void;
  onerror?: (failure: LinkFailure) => void;
  /** Every message sent while open, in order, across connections. */
  readonly sent: LinkMessage[] = [];
  /** Every `reconnect()` the link asked for. */
  readonly reconnects: Array<{ code: number; reason: string }> = [];
  bufferedAmount = 0;
  retriesExhausted = false;
  started = false;
  isOpen = false;
  /** Set once the link closed the transport for good. */
  closedWith: { code: number; reason: string } | undefined;

  constructor(readonly spec: LinkSpec) {}

  start(): void {
    this.started = true;
  }

  send(message: LinkMessage): boolean {
    if (!this.isOpen) return false;
    this.sent.push(message);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = { code, reason };
    // partysocket dispatches the close of an explicit close() at once.
    if (this.isOpen) this.drop(code, reason);
  }

  reconnect(code: number, reason: string): void {
    this.reconnects.push({ code, reason });
    if (this.isOpen) this.drop(code, reason);
  }

  // What the room (or the network) does:

  /** A connection opens. */
  open(): void {
    this.isOpen = true;
    this.onopen?.();
  }

  /** The room sends a frame (an object is serialised as the room would). */
  receive(message: object | string): void {
    this.onmessage?.(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The connection closes with this code. */
  drop(code = 1006, reason = ""): void {
    this.isOpen = false;
    this.onclose?.(code, reason);
  }

  /** A connect fails: partysocket reports a close, then the error. */
  fail(message = "connect ECONNREFUSED"): void {
    this.isOpen = false;
    this.onclose?.(1000, "");
    this.onerror?.({ message });
  }

  /** The mesh answers the upgrade with an HTTP error. */
  refuse(status: number): void {
    this.isOpen = false;
    this.onclose?.(1000, "");
    this.onerror?.({ message: `Unexpected server response: ${status}`, refusal: refusalOf(status) });
  }

  /** Messages sent of one type. */
  sentOf<T extends LinkMessage["type"]>(type: T): Array<Extract<LinkMessage, { type: T }>> {
    return this.sent.filter((message): message is Extract<LinkMessage, { type: T }> => message.type === type);
  }
}

/** An `openTransport` that hands out memory transports and keeps them for the test. */
export function memoryTransports(): { open: OpenTransport; all: MemoryTransport[]; last(): MemoryTransport } {
  const all: MemoryTransport[] = [];
  return {
    open: (spec) => {
      const transport = new MemoryTransport(spec);
      all.push(transport);
      return transport;
    },
    all,
    last() {
      const transport = all.at(-1);
      if (transport === undefined) throw new Error("no transport was opened");
      return transport;
    },
  };
}
