import type * as Party from "partykit/server";
import { type AuditAppend, PartyName, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { askRoom } from "../room-peers.ts";

/**
 * Hands one record to the audit room. Never fails its caller: an audit room that cannot be
 * reached costs a line in the server log, not the call it records. Returns the delivery, for
 * `waitUntil` where the caller's response would otherwise end it.
 */
export function recordAudit(
  parties: Party.Context["parties"],
  env: Record<string, unknown>,
  record: AuditAppend["record"],
): Promise<void> {
  const secrets = readSecrets(env);
  // Never a call with an empty token: a server without its secrets says so and records nothing.
  if ("code" in secrets)
    return Promise.resolve(
      console.error(`audit: could not record ${record.action} by ${record.credential}: ${secrets.message}`),
    );
  const append: AuditAppend = { type: "audit.append", record };
  return askRoom(parties, PartyName.audit, SINGLETON_ROOM_ID, secrets.orchestratorToken, "/", {
    method: "POST",
    body: append,
  }).then((answer) => {
    if (!answer.ok)
      console.warn(`audit: could not record ${record.action} by ${record.credential}: ${answer.error.message}`);
  });
}
