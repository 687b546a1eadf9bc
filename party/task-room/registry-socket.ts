import type * as Party from "partykit/server";
import { type DispatchRequest, PartyName, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { ROLE_HEADER } from "../auth/room-gate.ts";
import { PEER_QUERY } from "../room-peers.ts";

/** How long a dispatch waits for the socket before it goes over HTTP instead. */
const OPEN_WAIT_MS = 1000;

/**
 * A socket from a task room to the registry, opened while the task's admission (or the next
 * attempt's reservation) is asked, so the dispatch that follows is one message instead of one more
 * HTTP round trip between rooms (about 4-5 ms each under `partykit dev`, against 0.2 ms for a socket
 * message). It carries one dispatch and is closed; any failure falls back to
 * HTTP (`TaskPeers.dispatch`).
 */
/** The socket type of PartyKit's room stubs (Cloudflare's, not the DOM's). */
type RoomSocket = Awaited<ReturnType<Party.Stub["socket"]>>;

export class RegistrySocket {
  private readonly socket: Promise<RoomSocket | null>;

  constructor(parties: Party.Context["parties"], token: string) {
    const registry = parties[PartyName.registry];
    this.socket =
      registry === undefined
        ? Promise.resolve(null)
        : registry
            .get(SINGLETON_ROOM_ID)
            // The upgrade goes straight to the room: the credential's role travels as the gate would set it.
            .socket(`/?${PEER_QUERY}`, { headers: { authorization: `Bearer ${token}`, [ROLE_HEADER]: "orchestrator" } })
            .catch(() => null);
  }

  /** Sends the request if the socket opens in time; false means "send it over HTTP". */
  async send(request: DispatchRequest): Promise<boolean> {
    const socket = await Promise.race([
      this.socket,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), OPEN_WAIT_MS)),
    ]);
    if (socket === null || socket.readyState !== 1) return false;
    try {
      socket.send(JSON.stringify(request));
      return true;
    } catch {
      return false;
    } finally {
      socket.close(1000, "dispatched");
    }
  }

  /** Not needed after all (the admission was refused): close it. */
  discard(): void {
    void this.socket.then((socket) => socket?.close(1000, "not needed"));
  }
}
