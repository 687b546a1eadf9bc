import type * as Party from "partykit/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import AuditRoom from "../../party/audit/audit-room.ts";
import { CALLER_HEADER, callerOf, ROLE_HEADER, roleOf, type SocketRole } from "../../party/auth/room-gate.ts";
import { mintViewerLink, scopeAllowsTask } from "../../party/auth/viewer-link.ts";
import { FLOOD_CLOSE_CODE, FLOOD_LIMITS } from "../../party/limits/flood-guard.ts";
import { type Channel, MeshRoom, type SocketPolicy } from "../../party/mesh-room.ts";
import TaskDirectoryRoom from "../../party/task-directory/task-directory-room.ts";
import { AgentToTask, AuditAppend, type FrameError, type TaskToViewer, ViewerToTask } from "../../protocol/index.ts";
import { MapStorage } from "./map-storage.ts";

// The base room with real protocol schemas, real credentials and a real room (the audit log); only
// the platform (PartyKit's room, sockets and storage) is stood in for.

const ORCHESTRATOR = "o".repeat(32);
const env = { MESH_ORCHESTRATOR_TOKEN: ORCHESTRATOR, MESH_AGENT_TOKEN: "a".repeat(32) };

/** A socket as PartyKit hands it to a room: what was sent on it, and how it was closed. */
class FakeSocket {
  readonly sent: unknown[] = [];
  closed: { code: number; reason: string } | null = null;
  constructor(readonly id: string) {}
  send(frame: string): void {
    this.sent.push(JSON.parse(frame));
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }
  addEventListener(): void {}
}

const asConnection = (socket: FakeSocket): Party.Connection => socket as unknown as Party.Connection;

function fakeRoom(storage = new MapStorage(), sockets: FakeSocket[] = []): Party.Room {
  return {
    id: "main",
    env,
    storage,
    getConnections: () => sockets.map(asConnection),
    context: { parties: {} },
  } as unknown as Party.Room;
}

const lobby = { id: "task-1", env } as unknown as Party.Lobby;
const request = (
  method: string,
  token: string | null,
  body?: string,
  url = "http://mesh/parties/test/main",
): Party.Request =>
  new Request(url, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body }),
  }) as unknown as Party.Request;

/** A room like the task room: agents and viewers on one socket each, with their own schemas and rates. */
class RoleRoom extends MeshRoom<AuditAppend, AgentToTask | ViewerToTask, TaskToViewer> {
  static override readonly sockets: SocketPolicy = {
    open: true,
    admits: (caller, room) =>
      caller.role === "orchestrator" || (caller.role === "viewer" && scopeAllowsTask(caller.scope, room.id)),
  };
  protected readonly commands = AuditAppend;
  readonly heard: Array<AgentToTask | ViewerToTask | AuditAppend> = [];
  readonly roles = new Map<string, SocketRole>();

  onConnect(connection: Party.Connection, context: Party.ConnectionContext): void {
    const role = roleOf(context);
    if (role !== null) this.roles.set(connection.id, role);
  }

  protected override channelOf(connection: Party.Connection): Channel<AgentToTask | ViewerToTask> | null {
    const role = this.roles.get(connection.id);
    if (role === undefined) return null;
    return role === "agent"
      ? { schema: AgentToTask, perSecond: FLOOD_LIMITS.agentOnTask }
      : { schema: ViewerToTask, perSecond: FLOOD_LIMITS.viewer };
  }

  protected override onSocketMessage(message: AgentToTask | ViewerToTask): void {
    this.heard.push(message);
  }

  protected async onCommand(command: AuditAppend): Promise<Response> {
    this.heard.push(command);
    return Response.json({ heard: command.type });
  }

  protected override openRoute(request: Request): Promise<Response> | null {
    return new URL(request.url).searchParams.has("open") ? Promise.resolve(Response.json({ open: true })) : null;
  }
}

/** A socket that takes no messages and says so its own way. */
class QuietRoom extends MeshRoom<AuditAppend> {
  protected readonly commands = AuditAppend;
  protected async onCommand(): Promise<Response> {
    return Response.json({});
  }
  protected override channelOf(): Channel<never> {
    return { schema: z.never(), perSecond: FLOOD_LIMITS.viewer };
  }
  protected override frameRefusal(error: FrameError): FrameError {
    return { code: "unknown_type", message: `this socket takes no messages (${error.code})` };
  }
}

const append = {
  type: "audit.append",
  record: { role: "orchestrator", credential: "orchestrator", action: "task.create", outcome: "ok" },
};
const errorOf = async (response: Response): Promise<{ code: string; message: string }> =>
  ((await response.json()) as { error: { code: string; message: string } }).error;

function connected(room: RoleRoom, id: string, role: SocketRole): FakeSocket {
  const socket = new FakeSocket(id);
  const headers = new Headers({ [ROLE_HEADER]: role });
  room.onConnect(asConnection(socket), {
    request: new Request("http://mesh/", { headers }) as unknown as Party.Request,
  });
  return socket;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the base room's HTTP side", () => {
  it("admits only the orchestrator: 401 without a token, 403 for a viewer link", async () => {
    const room = new RoleRoom(fakeRoom());
    expect(await errorOf(await room.onRequest(request("POST", null, JSON.stringify(append))))).toMatchObject({
      code: "unauthorized",
    });
    const link = await mintViewerLink({ kind: "dashboard" }, ORCHESTRATOR, Date.now() + 60_000);
    const refused = await room.onRequest(request("GET", link));
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: "forbidden" });
    expect(room.heard).toEqual([]);
  });

  it("refuses a room that has lost its secrets, loudly, instead of comparing against an empty token", async () => {
    const room = new RoleRoom({ ...fakeRoom(), env: { MESH_AGENT_TOKEN: "a".repeat(32) } } as Party.Room);
    const refused = await room.onRequest(request("GET", ""));
    expect(refused.status).toBe(503);
    expect(await errorOf(refused)).toMatchObject({ code: "server_misconfigured" });
  });

  it("parses a POST body with the room's schema and hands the typed command on", async () => {
    const room = new RoleRoom(fakeRoom());
    const response = await room.onRequest(request("POST", ORCHESTRATOR, JSON.stringify(append)));
    expect(await response.json()).toEqual({ heard: "audit.append" });
    expect(room.heard).toEqual([append]);
  });

  it("answers a bad body with a typed error and never calls the room", async () => {
    const room = new RoleRoom(fakeRoom());
    expect(await errorOf(await room.onRequest(request("POST", ORCHESTRATOR, "{not json")))).toMatchObject({
      code: "bad_json",
    });
    const wrong = await errorOf(
      await room.onRequest(
        request("POST", ORCHESTRATOR, JSON.stringify({ ...append, record: { ...append.record, role: "root" } })),
      ),
    );
    expect(wrong.code).toBe("bad_request");
    expect(wrong.message).toMatch(/^record\.role/);
    expect(room.heard).toEqual([]);
  });

  it("serves GET only where the room reads, other methods never, and an open route before the gate", async () => {
    const room = new RoleRoom(fakeRoom());
    const get = await room.onRequest(request("GET", ORCHESTRATOR));
    expect(get.status).toBe(404);
    expect(await errorOf(get)).toEqual({ code: "not_found", message: "GET is not served here" });
    expect((await room.onRequest(request("PUT", ORCHESTRATOR, "{}"))).status).toBe(404);
    expect(
      await (await room.onRequest(request("GET", null, undefined, "http://mesh/parties/test/main?open"))).json(),
    ).toEqual({ open: true });
  });
});

describe("the base room's socket gate", () => {
  it("refuses every socket of a room that has none, with the room's own message", async () => {
    const refused = await AuditRoom.onBeforeConnect(request("GET", ORCHESTRATOR), lobby);
    expect(refused).toBeInstanceOf(Response);
    expect(await errorOf(refused as Response)).toEqual({
      code: "not_found",
      message: "the audit log has no sockets; use GET /api/audit?since=<ms>",
    });
  });

  it("admits the callers the room's policy allows and records their role", async () => {
    expect(((await RoleRoom.onBeforeConnect(request("GET", null), lobby)) as Response).status).toBe(401);
    const otherTask = await mintViewerLink({ kind: "task", taskId: "task-2" }, ORCHESTRATOR, Date.now() + 60_000);
    expect(((await RoleRoom.onBeforeConnect(request("GET", otherTask), lobby)) as Response).status).toBe(403);
    const ownTask = await mintViewerLink({ kind: "task", taskId: "task-1" }, ORCHESTRATOR, Date.now() + 60_000);
    const admitted = await RoleRoom.onBeforeConnect(request("GET", ownTask), lobby);
    expect(admitted).not.toBeInstanceOf(Response);
    expect((admitted as Party.Request).headers.get(ROLE_HEADER)).toBe("viewer");
    expect(callerOf({ request: admitted as Party.Request })).toEqual({
      role: "viewer",
      scope: { kind: "task", taskId: "task-1" },
    });
    // The room parses the caller header like any input: a shape the gate never writes reads as no caller.
    const forged = new Request("http://mesh/", {
      headers: { [CALLER_HEADER]: JSON.stringify({ role: "agent", via: "attempt", agent: "a" }) },
    });
    expect(callerOf({ request: forged as unknown as Party.Request })).toBeNull();
  });
});

describe("the base room's messages", () => {
  it("parses each socket's frames with its role's schema and answers a bad frame with a typed error", async () => {
    const room = new RoleRoom(fakeRoom());
    const viewer = connected(room, "v", "viewer");
    await room.onMessage(JSON.stringify({ type: "logs.subscribe", since_seq: 0 }), asConnection(viewer));
    expect(room.heard).toEqual([{ type: "logs.subscribe", since_seq: 0 }]);
    // An agent's message on a viewer's socket is not this socket's to send.
    await room.onMessage(
      JSON.stringify({ type: "attempt.hello", protocol_version: 1, agent: "a", attempt: 1, executor: "claude" }),
      asConnection(viewer),
    );
    await room.onMessage("{nope", asConnection(viewer));
    expect(viewer.sent).toMatchObject([
      { type: "error", code: "unknown_type" },
      { type: "error", code: "bad_json" },
    ]);
    expect(room.heard).toHaveLength(1);
  });

  it("closes a flooding socket with 1008 at its role's rate, and ignores a socket it does not track", async () => {
    const room = new RoleRoom(fakeRoom());
    const viewer = connected(room, "v", "viewer");
    const agent = connected(room, "a", "agent");
    const subscribe = JSON.stringify({ type: "logs.subscribe", since_seq: 0 });
    const hello = JSON.stringify({
      type: "attempt.hello",
      protocol_version: 1,
      agent: "a",
      attempt: 1,
      executor: "claude",
    });
    for (let i = 0; i <= FLOOD_LIMITS.viewer; i++) {
      await room.onMessage(subscribe, asConnection(viewer));
      await room.onMessage(hello, asConnection(agent));
    }
    expect(viewer.closed?.code).toBe(FLOOD_CLOSE_CODE);
    expect(agent.closed).toBeNull();
    const stranger = new FakeSocket("s");
    await room.onMessage(subscribe, asConnection(stranger));
    expect(stranger.sent).toEqual([]);
    expect(room.heard).toHaveLength(2 * FLOOD_LIMITS.viewer + 1);
  });

  it("lets a room say its own refusal", async () => {
    const room = new QuietRoom(fakeRoom());
    const socket = new FakeSocket("q");
    await room.onMessage("[1]", asConnection(socket));
    expect(socket.sent).toEqual([
      { type: "error", code: "unknown_type", message: "this socket takes no messages (bad_message)" },
    ]);
  });
});

describe("a room's corrupt stored record", () => {
  it("is left out of the audit page and logged, never a crash", async () => {
    const storage = new MapStorage();
    const room = new AuditRoom(fakeRoom(storage));
    await storage.put({
      "r:000000000000001-000000": { at: "yesterday" },
      "r:000000000000002-000000": { at: 2, ...append.record },
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const page = (await (await room.onRequest(request("GET", ORCHESTRATOR))).json()) as { records: unknown[] };
    expect(page.records).toHaveLength(1);
    expect(page.records[0]).toMatchObject(append.record);
    expect(logged).toHaveBeenCalledWith(
      expect.stringMatching(/^audit: stored r:000000000000001-000000 is corrupt \(at: /),
    );
  });

  it("refuses a directory name lookup with a typed error, and is left out of the task list", async () => {
    const storage = new MapStorage();
    await storage.put({ "name:nightly": "01TASK", "task:01TASK": { task_id: "01TASK", status: "exploded" } });
    const room = new TaskDirectoryRoom(fakeRoom(storage));
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const byName = await room.onRequest(
      request("GET", ORCHESTRATOR, undefined, "http://mesh/parties/directory/main?name=nightly"),
    );
    expect(byName.status).toBe(500);
    expect(await errorOf(byName)).toMatchObject({
      code: "internal",
      message: expect.stringContaining("stored task:01TASK is corrupt"),
    });
    expect(await (await room.onRequest(request("GET", ORCHESTRATOR))).json()).toEqual({ tasks: [] });
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^directory: stored task:01TASK is corrupt/));
  });
});
