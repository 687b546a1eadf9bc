import type * as Party from "partykit/server";
import { type OAuthCommand, OAuthReply, PartyName, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { fetchRoom } from "../room-peers.ts";

/** Asks the grants room (oauth-room.ts); a room that cannot be reached is a `server_error`, never a throw. */
export async function askGrants(
  parties: Party.Context["parties"],
  orchestratorToken: string,
  command: OAuthCommand,
): Promise<OAuthReply> {
  const unreachable = (why: string): OAuthReply => ({
    ok: false,
    error: { error: "server_error", error_description: `the grants room: ${why}` },
  });
  try {
    const response = await fetchRoom(parties, PartyName.oauth, SINGLETON_ROOM_ID, orchestratorToken, "/", {
      method: "POST",
      body: command,
    });
    const parsed = OAuthReply.safeParse(await response.json());
    return parsed.success ? parsed.data : unreachable(`answered ${response.status} with an unexpected body`);
  } catch (error) {
    return unreachable(error instanceof Error ? error.message : String(error));
  }
}
