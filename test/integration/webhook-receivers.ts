// Real HTTP webhook receivers on loopback ports (20000-32000) for the notification tests and bench:
// each records what arrived, checks the signature when it has a secret, and answers as told
// (at once, after a pause, with a status, or with a redirect).
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import { listenOnTestPort, readRequestBody } from "../loopback-ports.ts";

/** One request a receiver got. */
export type Arrival = {
  at: number;
  type: string;
  eventId: string;
  body: string;
  json: unknown;
  signature: string | undefined;
  signatureOk: boolean | null;
  status: number /** When the answer was sent; absent while the receiver holds the request. */;
  answeredAt?: number /** When the request ended either way: answered, or given up by the sender. */;
  endedAt?: number;
};

/** How a receiver answers request number `n` (from 1) of event `eventId`. */
export type Answer = (n: number, eventId: string) => { status: number; delayMs?: number; location?: string };

export type Receiver = {
  url: string;
  port: number;
  arrivals: Arrival[];
  /** Requests being answered now (a slow receiver holds them). */
  open(): number;
  /** Called with each arrival, after it is recorded and before it is answered. */
  onArrival?: (arrival: Arrival) => Promise<void> | void;
  close(): Promise<void>;
};

/** Whether `signature` is `sha256=<hex HMAC-SHA256 of body>` under `secret`, compared in constant time. */
export function signatureValid(body: string, signature: string | undefined, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(signature ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A receiver that answers each request as `answer` says (default: 200 at once). */
export async function startReceiver(
  options: { secret?: string; answer?: Answer; path?: string } = {},
): Promise<Receiver> {
  const answer: Answer = options.answer ?? (() => ({ status: 200 }));
  const perEvent = new Map<string, number>();
  let open = 0;
  const pending = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    open += 1;
    pending.add(response);
    let arrival: Arrival | undefined;
    response.on("close", () => {
      open -= 1;
      pending.delete(response);
      if (arrival !== undefined) arrival.endedAt = Date.now();
    });
    void (async () => {
      const body = await readRequestBody(request);
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // kept as text
      }
      const eventId = String(request.headers["x-mesh-delivery"] ?? "");
      const n = (perEvent.get(eventId) ?? 0) + 1;
      perEvent.set(eventId, n);
      const told = answer(n, eventId);
      const signature = request.headers["x-mesh-signature"] as string | undefined;
      arrival = {
        at: Date.now(),
        type: String(request.headers["x-mesh-event"] ?? ""),
        eventId,
        body,
        json,
        signature,
        signatureOk: options.secret === undefined ? null : signatureValid(body, signature, options.secret),
        status: told.status,
      };
      const arrived = arrival;
      receiver.arrivals.push(arrived);
      await receiver.onArrival?.(arrived);
      if (told.delayMs !== undefined) await new Promise((done) => setTimeout(done, told.delayMs));
      if (response.destroyed) return;
      response.writeHead(told.status, told.location === undefined ? {} : { location: told.location });
      response.end(told.status < 300 ? "ok" : "no");
      arrived.answeredAt = Date.now();
    })();
  });
  const port = await listenOnTestPort(server);
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}${options.path ?? "/hook"}`,
    port,
    arrivals: [],
    open: () => open,
    close: () => {
      for (const response of pending) response.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
