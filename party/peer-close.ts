import type * as Party from "partykit/server";

/**
 * Answers a peer's close frame with ours, so the runtime lets the socket go (docs/memory.md). Workers
 * before the 2026-04-07 compatibility date (`web_socket_auto_reply_to_close`) do not reply by
 * themselves and PartyKit does not either: a viewer that closed cleanly stayed half-closed in workerd,
 * its connection and buffers held until the client gave up (ws waits 30 s), ~100 KB of workerd memory a
 * socket. Every room that accepts sockets calls this once per socket as it records it.
 */
export function answerPeerClose(connection: Party.Connection): void {
  connection.addEventListener(
    "close",
    () => {
      try {
        connection.close();
      } catch {
        // closed already (the room closed it first, or the runtime answered itself)
      }
    },
    { once: true },
  );
}
