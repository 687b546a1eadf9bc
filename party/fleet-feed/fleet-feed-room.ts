import type * as Party from "partykit/server";
import { DashboardToRegistry, PartyName, RegistryToDashboard, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { readSecrets } from "../auth/credentials.ts";
import { scopeSeesMesh } from "../auth/viewer-link.ts";
import { json } from "../http/responses.ts";
import { FLOOD_LIMITS } from "../limits/flood-guard.ts";
import { type Channel, MeshRoom, type SocketPolicy } from "../mesh-room.ts";
import { answerPeerClose } from "../peer-close.ts";
import { askRoom } from "../room-peers.ts";

/**
 * The fleet feed (one room, id "main"): what dashboards follow of the agents, so heartbeats are
 * never behind a viewer (docs/wire-protocol.md). The registry serves agents only; at most once a second, while anyone
 * watches, it pushes its agents snapshot here, and this room hands the one serialised frame to every
 * dashboard. A dashboard's messages cost a cached frame at most, and a socket that floods is closed
 * with 1008, so no viewer can delay an agent's heartbeat.
 */
export default class FleetFeedRoom extends MeshRoom<RegistryToDashboard, DashboardToRegistry, RegistryToDashboard> {
  static override readonly sockets: SocketPolicy = {
    open: true,
    admits: (caller) => caller.role === "orchestrator" || (caller.role === "viewer" && scopeSeesMesh(caller.scope)),
  };
  /** The registry's push: an agents snapshot. */
  protected readonly commands = RegistryToDashboard;
  /** The newest agents snapshot, serialised once for every dashboard. */
  private latest: string | null = null;
  private fetching: Promise<void> | null = null;

  async onConnect(connection: Party.Connection): Promise<void> {
    answerPeerClose(connection);
    // No snapshot yet, or none while nobody watched (the registry pushes only to watched feeds): ask for one.
    if (this.latest === null || this.watchers() === 1) await this.fetchSnapshot();
    if (this.latest !== null) connection.send(this.latest);
  }

  protected override channelOf(): Channel<DashboardToRegistry> {
    return { schema: DashboardToRegistry, perSecond: FLOOD_LIMITS.viewer };
  }

  /** A dashboard's `agents.list`: the cached frame, never a call to the registry. */
  protected override onSocketMessage(_message: DashboardToRegistry, connection: Party.Connection): void {
    if (this.latest !== null) connection.send(this.latest);
  }

  protected override onRead(): Response {
    return json({ watchers: this.watchers() });
  }

  /**
   * The registry's push: `POST` an agents snapshot; the reply says how many dashboards watch, so it pushes only while
   * someone does.
   */
  protected async onCommand(snapshot: RegistryToDashboard): Promise<Response> {
    this.publish(JSON.stringify(snapshot));
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

  /**
   * One request to the registry for its snapshot (`?view=feed` also tells it someone watches), shared by dashboards
   * connecting together.
   */
  private fetchSnapshot(): Promise<void> {
    this.fetching ??= (async () => {
      const secrets = readSecrets(this.room.env);
      // Never a call with an empty token: a server without its secrets says so and asks nothing.
      if ("code" in secrets) return console.error(`fleet: cannot ask the registry for its agents: ${secrets.message}`);
      const reply = await askRoom<unknown>(
        this.room.context.parties,
        PartyName.registry,
        SINGLETON_ROOM_ID,
        secrets.orchestratorToken,
        "/?view=feed",
      );
      const parsed = reply.ok ? RegistryToDashboard.safeParse(reply.value) : null;
      if (parsed?.success === true) this.latest = JSON.stringify(parsed.data);
    })().finally(() => {
      this.fetching = null;
    });
    return this.fetching;
  }
}

FleetFeedRoom satisfies Party.Worker;
