import type * as Party from "partykit/server";
import type { z } from "zod";
import { type ErrorMessage, type FrameError, parseMessage } from "../protocol/index.ts";
import type { Caller } from "./auth/credentials.ts";
import { gateRequest, gateSocket } from "./auth/room-gate.ts";
import { readJsonBody } from "./http/read-body.ts";
import { errorResponse } from "./http/responses.ts";
import { FLOOD_CLOSE_CODE, FloodGuard } from "./limits/flood-guard.ts";
import { standardRequest } from "./platform-request.ts";

/*
 * The base of every room (docs/rooms.md), the way partyserver's `Server` owns the platform's entry
 * points and calls a subclass's hooks. It owns the scaffolding every room needs the same: the
 * credential gate, the request adapter, body and message parsing with the room's schemas, the flood
 * guard, and typed sends. A room extends it and keeps only its hooks:
 *
 *   export default class AuditRoom extends MeshRoom<AuditAppend> {
 *     static override readonly sockets: SocketPolicy = { open: false, message: "…use GET /api/audit" };
 *     protected readonly commands = AuditAppend;                // POST bodies, parsed before onCommand
 *     protected override onRead(url: URL) { … }                // GET (default: 404)
 *     protected async onCommand(append: AuditAppend) { … }     // a parsed POST body
 *   }
 *   AuditRoom satisfies Party.Worker;
 *
 * A room with sockets sets `sockets` to `{ open: true, admits: (caller, lobby, url) => … }`, says per
 * socket what it may send and how fast (`channelOf`: a schema and a rate, e.g. by the socket's role;
 * null ignores the frame), and handles parsed messages in `onSocketMessage`. `openRoute` serves a
 * request before the orchestrator-only gate (a route that checks its own credential). `onConnect`,
 * `onClose`, `onStart` and `onAlarm` stay the room's own. Never override `onRequest`, `onMessage` or
 * `onBeforeConnect`: they are the scaffolding.
 */

/**
 * Who may open a socket on a room: nobody (answered 404 with `message`), or the callers `admits` allows (401/403
 * otherwise).
 */
export type SocketPolicy =
  | { open: false; message: string }
  | { open: true; admits: (caller: Caller, lobby: Party.Lobby, url: URL) => boolean };

/** What one socket may send (a message schema) and how many messages a second before it is closed with 1008. */
export type Channel<Inbound> = { schema: z.ZodType<Inbound>; perSecond: number };

/**
 * `Command`: the POST body schema's type. `Inbound`: what sockets may send (a union of every
 * channel's). `Outbound`: what the room sends on sockets; a protocol `error` message is always allowed.
 */
export abstract class MeshRoom<Command, Inbound = never, Outbound extends { type: string } = never>
  implements Party.Server
{
  readonly options = { hibernate: false };
  /** No sockets unless a room opens them: a room that forgets to say refuses rather than admits. */
  static readonly sockets: SocketPolicy = { open: false, message: "this room has no sockets" };

  /** The schema of the room's POST bodies. */
  protected abstract readonly commands: z.ZodType<Command>;
  private readonly guards = new WeakMap<Party.Connection, FloodGuard>();

  constructor(readonly room: Party.Room) {}

  /** Checks a socket's credential before the upgrade against the room's `sockets` policy. */
  static async onBeforeConnect(
    this: { readonly sockets: SocketPolicy },
    request: Party.Request,
    lobby: Party.Lobby,
  ): Promise<Party.Request | Response> {
    // `this` in a static method is the subclass PartyKit calls: each room's own policy.
    // biome-ignore lint/complexity/noThisInStatic: the subclass's static, not the base's
    const policy = this.sockets;
    if (!policy.open) return errorResponse("not_found", policy.message);
    const url = new URL(request.url);
    return gateSocket(request, lobby, (caller) => policy.admits(caller, lobby, url));
  }

  /**
   * Gate (orchestrator only), then GET → `onRead`, POST → body parsed with `commands` → `onCommand`; other methods 404.
   */
  async onRequest(platform: Party.Request): Promise<Response> {
    const request = standardRequest(platform);
    const open = this.openRoute(request);
    if (open !== null) return open;
    const refused = await gateRequest(platform, this.room.env);
    if (refused !== null) return refused;
    if (request.method === "GET") return this.onRead(new URL(request.url), request);
    if (request.method !== "POST") return errorResponse("not_found", `${request.method} is not served here`);
    const body = await readJsonBody(request, this.commands);
    if (!body.ok) return errorResponse(body.error.code, body.error.message);
    return this.onCommand(body.value, request);
  }

  /**
   * Counts the frame against its socket's rate (closing a flood with 1008), parses it with the socket's schema, and
   * hands it on or answers a typed error.
   */
  async onMessage(raw: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
    const channel = this.channelOf(connection);
    if (channel === null) return;
    let guard = this.guards.get(connection);
    if (guard === undefined) this.guards.set(connection, (guard = new FloodGuard(channel.perSecond)));
    if (!guard.admit(Date.now()))
      return connection.close(
        FLOOD_CLOSE_CODE,
        `more than ${guard.perSecond} messages a second; reconnect and send less`,
      );
    const parsed = parseMessage(channel.schema, raw);
    if (!parsed.ok) return this.send(connection, { type: "error", ...this.frameRefusal(parsed.error) });
    return this.onSocketMessage(parsed.value, connection);
  }

  /** A parsed POST body. */
  protected abstract onCommand(command: Command, request: Request): Promise<Response>;

  /** A GET that passed the gate; by default the room serves none. */
  protected onRead(_url: URL, request: Request): Response | Promise<Response> {
    return errorResponse("not_found", `${request.method} is not served here`);
  }

  /** A route served before the orchestrator-only gate, checking its own credential; null: none, go on to the gate. */
  protected openRoute(_request: Request): Promise<Response> | null {
    return null;
  }

  /**
   * What this socket may send and how fast; null ignores its frames (a socket the room no longer tracks, or a room
   * without sockets).
   */
  protected channelOf(_connection: Party.Connection): Channel<Inbound> | null {
    return null;
  }

  /** A socket's message, parsed with its channel's schema. */
  protected onSocketMessage(_message: Inbound, _connection: Party.Connection): void | Promise<void> {}

  /**
   * The error a bad frame is answered with; a room may say it more precisely (e.g. a socket that takes no messages).
   */
  protected frameRefusal(error: FrameError): FrameError {
    return error;
  }

  /** Sends one protocol message on a socket. */
  protected send(connection: Party.Connection, message: Outbound | ErrorMessage): void {
    connection.send(JSON.stringify(message));
  }

  /** Sends one message, serialised once, to every open socket (or those `to` picks). */
  protected broadcast(message: Outbound, to: (connection: Party.Connection) => boolean = () => true): void {
    const frame = JSON.stringify(message);
    for (const connection of this.room.getConnections()) if (to(connection)) connection.send(frame);
  }
}
