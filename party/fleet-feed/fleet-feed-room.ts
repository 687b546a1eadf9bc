import type * as Party from "partykit/server";
import { DashboardToRegistry, PartyName, RegistryToDashboard, SINGLETON_ROOM_ID, parseMessage } from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { gateRequest, gateSocket } from "../auth/room-gate.ts";
import { scopeSeesMesh } from "../auth/viewer-link.ts";
import { readJsonBody } from "../http/read-body.ts";
import { errorResponse, json } from "../http/responses.ts";
import { askRoom } from "../room-peers.ts";
import { answerPeerClose } from "../peer-close.ts";
import { FloodGuard, FLOOD_CLOSE_CODE } from "../limits/flood-guard.ts";

/**
 * The fleet feed (one room, id "main"): what dashboards follow of the agents, so heartbeats are
 * never behind a viewer (docs/wire-protocol.md). The registry serves agents only; at most once a second, while anyone
 * watches, it pushes its agents snapshot here, and this room hands the one serialised frame to every
 * dashboard. A dashboard's messages cost a cached frame at most, and a socket that floods is closed
 * with 1008, so no viewer can delay an agent's heartbeat.
 */
export default class FleetFeedRoom implements Party.Server {
  readonly options = { hibernate: false };
  /** The newest agents snapshot, serialised once for every dashboard. */
  private latest: string | null = null;
  private fetching: Promise<void> | null = null;
  private readonly guards = new WeakMap<Party.Connection, FloodGuard>();

  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby): Promise<Party.Request | Response> {
    return gateSocket(request, lobby, (caller) => caller.role === "orchestrator" || (caller.role === "viewer" && scopeSeesMesh(caller.scope)));
  }

  async onConnect(connection: Party.Connection): Promise<void> {
    answerPeerClose(connection);
    this.guards.set(connection, new FloodGuard());
    // No snapshot yet, or none while nobody watched (the registry pushes only to watched feeds): ask for one.
    if (this.latest === null || this.watchers() === 1) await this.fetchSnapshot();
    if (this.latest !== null) connection.send(this.latest);
  }

  onMessage(raw: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): void {
    const guard = this.guards.get(connection);
    if (guard !== undefined && !guard.admit(Date.now())) {
      connection.close(FLOOD_CLOSE_CODE, `more than ${guard.perSecond} messages a second; reconnect and send less`);
      return;
    }
    const parsed = parseMessage(DashboardToRegistry, raw);
    if (!parsed.ok) return connection.send(JSON.stringify({ type: "error", ...parsed.error } satisfies RegistryToDashboard));
    if (this.latest !== null) connection.send(this.latest);
  }

  /** The registry's push: `POST` an agents snapshot; the reply says how many dashboards watch, so it pushes only while someone does. */
  async onRequest(request: Party.Request): Promise<Response> {
    const refused = await gateRequest(request, this.room.env);
    if (refused !== null) return refused;
    if (request.method === "GET") return json({ watchers: this.watchers() });
    if (request.method !== "POST") return errorResponse("not_found", `${request.method} is not served here`);
    const body = await readJsonBody(request as unknown as Request, RegistryToDashboard);
    if (!body.ok) return errorResponse(body.error.code, body.error.message);
    this.publish(JSON.stringify(body.value));
    return json({ watchers: this.watchers() });
  }

  private publish(frame: string): void {
    this.latest = frame;
    for (const connection of this.room.getConnections()) connection.send(frame);
  }

  private watchers(): number {
    let count = 0;
    for (const _connection of this.room.getConnections()) count += 1;
    return count;
  }

  /** One request to the registry for its snapshot (`?view=feed` also tells it someone watches), shared by dashboards connecting together. */
  private fetchSnapshot(): Promise<void> {
    this.fetching ??= (async () => {
      const secrets = readSecrets(this.room.env);
      if ("code" in secrets) return;
      const reply = await askRoom<unknown>(this.room.context.parties, PartyName.registry, SINGLETON_ROOM_ID, secrets.orchestratorToken, "/?view=feed");
      const parsed = reply.ok ? RegistryToDashboard.safeParse(reply.value) : null;
      if (parsed?.success === true) this.latest = JSON.stringify(parsed.data);
    })().finally(() => {
      this.fetching = null;
    });
    return this.fetching;
  }
}

FleetFeedRoom satisfies Party.Worker;
