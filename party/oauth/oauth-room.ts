import type * as Party from "partykit/server";
import { OAuthClientRecord, OAuthCodeRecord, OAuthCommand, OAuthGrantRecord, type OAuthReply } from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { gateRequest } from "../auth/room-gate.ts";
import { readJsonBody } from "../http/read-body.ts";
import { errorResponse, json } from "../http/responses.ts";
import { decideOAuth, type OAuthState } from "./grant-book.ts";
import { drawFresh } from "./oauth-secrets.ts";
import { oauthSettingsFrom } from "./oauth-settings.ts";

/**
 * The OAuth grants (one room, id "main"; docs/oauth.md): registered clients, codes and grants, tokens
 * as hashes only. A Durable Object runs one event at a time and its storage is transactional, which
 * is what makes a code single-use and refresh rotation strict; KV could not. The logic is
 * `decideOAuth`; this hook loads the state once, draws the random values, applies the command in one
 * synchronous step, and writes what changed (the reply waits for those writes: output gates).
 */
export default class OAuthRoom implements Party.Server {
  readonly options = { hibernate: false };
  private state: OAuthState | null = null;
  private loading: Promise<OAuthState> | null = null;

  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(): Promise<Response> {
    return errorResponse("not_found", "the OAuth grants room has no sockets; see /.well-known/oauth-authorization-server");
  }

  async onRequest(request: Party.Request): Promise<Response> {
    const refused = await gateRequest(request, this.room.env);
    if (refused !== null) return refused;
    if (request.method !== "POST") return errorResponse("not_found", `${request.method} is not served here`);
    const body = await readJsonBody(request as unknown as Request, OAuthCommand);
    if (!body.ok) return errorResponse(body.error.code, body.error.message);
    const [fresh, loaded] = await Promise.all([drawFresh(), this.load()]);
    // From here to the writes nothing awaits: no other command can see a half-applied one.
    const outcome = decideOAuth(this.state ?? loaded, body.value, Date.now(), fresh, oauthSettingsFrom(this.room.env));
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
      const [clients, codes, grants] = await Promise.all(["client:", "code:", "grant:"].map((prefix) => this.room.storage.list({ prefix })));
      const keep = <T>(entries: Map<string, unknown> | undefined, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }, idOf: (record: T) => string): Map<string, T> => {
        const kept = new Map<string, T>();
        for (const value of entries?.values() ?? []) {
          const parsed = schema.safeParse(value);
          if (parsed.success) kept.set(idOf(parsed.data), parsed.data);
        }
        return kept;
      };
      const loaded: OAuthState = {
        clients: keep(clients, OAuthClientRecord, (client) => client.client_id),
        codes: keep(codes, OAuthCodeRecord, (code) => code.code_hash),
        grants: keep(grants, OAuthGrantRecord, (grant) => grant.id),
      };
      this.state ??= loaded;
      return this.state;
    })();
    return this.loading;
  }
}

OAuthRoom satisfies Party.Worker;
