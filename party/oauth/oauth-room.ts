import type * as Party from "partykit/server";
import {
  OAuthClientRecord,
  OAuthCodeRecord,
  OAuthCommand,
  OAuthGrantRecord,
  type OAuthReply,
} from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { json } from "../http/responses.ts";
import { MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { listStored } from "../stored-records.ts";
import { decideOAuth } from "./grant-book.ts";
import type { OAuthState } from "./grant-state.ts";
import { drawFresh } from "./oauth-secrets.ts";
import { oauthSettingsFrom } from "./oauth-settings.ts";

/**
 * The OAuth grants (one room, id "main"; docs/oauth.md): registered clients, codes and grants, tokens
 * as hashes only. A Durable Object runs one event at a time and its storage is transactional, which
 * is what makes a code single-use and refresh rotation strict; KV could not. The logic is
 * `decideOAuth`; this hook loads the state once, draws the random values, applies the command in one
 * synchronous step, and writes what changed (the reply waits for those writes: output gates).
 */
export default class OAuthRoom extends MeshRoom<OAuthCommand> {
  static override readonly sockets: SocketPolicy = {
    open: false,
    message: "the OAuth grants room has no sockets; see /.well-known/oauth-authorization-server",
  };
  protected readonly commands = OAuthCommand;
  private state: OAuthState | null = null;
  private loading: Promise<OAuthState> | null = null;

  protected async onCommand(command: OAuthCommand): Promise<Response> {
    const [fresh, loaded] = await Promise.all([drawFresh(), this.load()]);
    // From here to the writes nothing awaits: no other command can see a half-applied one.
    const outcome = decideOAuth(this.state ?? loaded, command, Date.now(), fresh, oauthSettingsFrom(this.room.env));
    this.state = outcome.state;
    for (const write of outcome.writes) {
      if ("put" in write) void this.room.storage.put(write.put, write.value);
      else void this.room.storage.delete(write.delete);
    }
    await Promise.all(outcome.audits.map((record) => recordAudit(this.room.context.parties, this.room.env, record)));
    return json(outcome.reply satisfies OAuthReply);
  }

  private load(): Promise<OAuthState> {
    this.loading ??= (async () => {
      // A corrupt record (logged) is left out: an unreadable client, code or grant is one the room does not know
      // (docs/rooms.md "Stored records").
      const [clients, codes, grants] = await Promise.all([
        listStored(this.room.storage, "oauth", { prefix: "client:" }, OAuthClientRecord),
        listStored(this.room.storage, "oauth", { prefix: "code:" }, OAuthCodeRecord),
        listStored(this.room.storage, "oauth", { prefix: "grant:" }, OAuthGrantRecord),
      ]);
      const byId = <T>(records: Map<string, T>, idOf: (record: T) => string): Map<string, T> =>
        new Map([...records.values()].map((record) => [idOf(record), record]));
      const loaded: OAuthState = {
        clients: byId(clients.records, (client) => client.client_id),
        codes: byId(codes.records, (code) => code.code_hash),
        grants: byId(grants.records, (grant) => grant.id),
      };
      this.state ??= loaded;
      return this.state;
    })();
    return this.loading;
  }
}

OAuthRoom satisfies Party.Worker;
