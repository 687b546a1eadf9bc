// Where the tests' own servers listen, and how they read a request: shared by the mesh harness, the
// scripted model server and the webhook receivers. Ports come from below Linux's ephemeral range
// (32768-60999): a port the kernel handed out for `listen(0)` could meanwhile become the local end of
// one of the tests' many outgoing connections, and a server then failed to bind it ("Address already
// in use", seen in CI).
import type { IncomingMessage } from "node:http";
import { createServer, type Server } from "node:net";

export const TEST_PORTS = { from: 20_000, to: 32_000 } as const;
const TRIES = 50;

const randomTestPort = (): number => TEST_PORTS.from + Math.floor(Math.random() * (TEST_PORTS.to - TEST_PORTS.from));

/** Listens on 127.0.0.1:`port`; false when the port is taken. */
export function listenOn(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
}

/** Listens on a random free test port (or the one given), and returns it. */
export async function listenOnTestPort(server: Server, port?: number): Promise<number> {
  const candidates = port !== undefined ? [port] : Array.from({ length: TRIES }, randomTestPort);
  for (const candidate of candidates) if (await listenOn(server, candidate)) return candidate;
  throw new Error(`no free loopback port (tried ${candidates.join(", ")})`);
}

/** A port nothing listens on now, for a server another process will bind (partykit dev). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenOnTestPort(probe);
  await new Promise((closed) => probe.close(closed));
  return port;
}

/** A request's whole body as text. */
export function readRequestBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
