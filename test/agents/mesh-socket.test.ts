// The partysocket transport against a local `ws` server (no mesh): the URL and token it connects
// with, frames both ways, final close codes, and a refused upgrade reported as a typed refusal.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import type { LinkFailure, LinkTransport } from "../../agents/runtime/link-transport.ts";
import { openMeshSocket } from "../../agents/runtime/mesh-socket.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Server): Promise<URL> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

function transportTo(server: URL, finalCloseCodes: readonly number[] = []): LinkTransport {
  const transport = openMeshSocket({
    server,
    token: "secret token",
    party: "registry",
    room: "main",
    maxRetries: 3,
    finalCloseCodes,
  });
  cleanups.push(() => transport.close(1000, "test over"));
  return transport;
}

/** A server that answers every upgrade with this HTTP status. */
async function refusingServer(status: number, text: string): Promise<URL> {
  const server = createServer();
  server.on("upgrade", (_request, socket) => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  });
  return listen(server);
}

describe("the partysocket link transport", () => {
  it.each([
    [401, "Unauthorized", "unauthorized"],
    [403, "Forbidden", "forbidden"],
    [404, "Not Found", "not_found"],
    [503, "Service Unavailable", "other"],
  ])("reports an upgrade refused with %i as a typed refusal", async (status, text, reason) => {
    const transport = transportTo(await refusingServer(status, text));
    const failure = await new Promise<LinkFailure>((resolve) => {
      transport.onerror = resolve;
      transport.start();
    });
    expect(failure.refusal).toEqual({ reason, status });
  });

  it("reports a server that is not there as a failure with no refusal", async () => {
    const server = createServer();
    const url = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const transport = transportTo(url);
    const failure = await new Promise<LinkFailure>((resolve) => {
      transport.onerror = resolve;
      transport.start();
    });
    expect(failure.refusal).toBeUndefined();
    expect(failure.message).toMatch(/ECONNREFUSED/);
  });

  it("connects to the party's room with the token, carries frames both ways, and stops on a final close code", async () => {
    const server = createServer();
    const sockets = new WebSocketServer({ server });
    const paths: string[] = [];
    sockets.on("connection", (socket: WebSocket, request) => {
      paths.push(request.url ?? "");
      socket.on("message", (data) => {
        socket.send(`echo ${data.toString()}`);
        socket.close(4410, "replaced");
      });
    });
    cleanups.push(() => sockets.close());
    const transport = transportTo(await listen(server), [4410]);
    expect(transport.send({ type: "task.released", task_id: "01A", attempt: 1 })).toBe(false);
    const received: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      transport.onopen = () => transport.send({ type: "task.released", task_id: "01A", attempt: 1 });
      transport.onmessage = (data) => received.push(String(data));
      transport.onclose = (code, reason) => resolve({ code, reason });
      transport.start();
    });
    expect(await closed).toEqual({ code: 4410, reason: "replaced" });
    expect(received).toEqual(['echo {"type":"task.released","task_id":"01A","attempt":1}']);
    expect(paths[0]).toMatch(/^\/parties\/registry\/main\?/);
    expect(new URLSearchParams(paths[0]?.split("?")[1]).get("token")).toBe("secret token");
    // The shortest reconnect delay is 0.5-1 s: past it, still one connection.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(paths).toHaveLength(1);
  });
});
