import type * as Party from "partykit/server";
import { answerPeerClose } from "./peer-close.ts";

/**
 * The sockets a room has open, by connection id, as socket objects, so agents always come back
 * (docs/connection-names.md). PartyKit names a connection by the client's `_pk` query parameter and keeps one
 * socket per name: when a client reuses its name (partysocket keeps one `_pk` for every reconnect of
 * an instance; ours no longer do, `agents/runtime/mesh-socket.ts`), a server that resumes after a
 * stall opens and closes several sockets of one name at once, and the close of a stale one makes
 * `room.getConnection` forget the live one. A room that sent through `getConnection` then never
 * answered that agent again. Here the newest socket under a name wins, the older one is closed by
 * the caller, and the close of a socket that is no longer current changes nothing.
 */
export class LiveSockets<Info> {
  private readonly byId = new Map<string, { socket: Party.Connection; info: Info }>();

  /** Records a new socket; returns the older socket it replaces under the same name, for the caller to close. */
  add(socket: Party.Connection, info: Info): Party.Connection | undefined {
    answerPeerClose(socket);
    const previous = this.byId.get(socket.id);
    this.byId.set(socket.id, { socket, info });
    return previous !== undefined && previous.socket !== socket ? previous.socket : undefined;
  }

  /**
   * The socket closed: forgets it and returns its info if it was the current one under its name; a stale socket's close
   * returns undefined.
   */
  remove(socket: Party.Connection): Info | undefined {
    const entry = this.byId.get(socket.id);
    if (entry === undefined || entry.socket !== socket) return undefined;
    this.byId.delete(socket.id);
    return entry.info;
  }

  /** What the room knows of this socket, if it is the current one under its name. */
  infoOf(socket: Party.Connection): Info | undefined {
    const entry = this.byId.get(socket.id);
    return entry !== undefined && entry.socket === socket ? entry.info : undefined;
  }

  /** The current socket under a name. */
  socket(id: string): Party.Connection | undefined {
    return this.byId.get(id)?.socket;
  }

  /** Forgets a name (the room closed its socket itself). */
  forget(id: string): void {
    this.byId.delete(id);
  }

  *entries(): IterableIterator<[Party.Connection, Info]> {
    for (const { socket, info } of this.byId.values()) yield [socket, info];
  }
}
