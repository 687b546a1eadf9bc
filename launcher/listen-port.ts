// The port `npm start` and `npm run server` listen on (docs/command-line.md): a TCP port 1-65535, and
// one nothing else holds. A taken port is refused before partykit starts, leaving whatever runs there
// untouched: a second mesh on the same port used to find the first one answering /health, take its
// agent's name, and so end the first mesh.
import { createServer } from "node:net";
import { z } from "zod";
import type { Result } from "../protocol/result.ts";

/** Why a port cannot be listened on: no port at all, one something holds, or another bind error (EACCES…). */
export type PortRefusal = { code: "bad_port" | "port_taken" | "cannot_listen"; message: string };

/** The port `--port` names, or `bad_port` when it is not a whole number 1-65535 (`abc`, `99999`, `1e3`, `0x50`). */
function parsePort(text: string): Result<number, PortRefusal> {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : 0;
  return port >= 1 && port <= 65535
    ? { ok: true, value: port }
    : {
        ok: false,
        error: { code: "bad_port", message: `--port must be a whole number from 1 to 65535, got '${text}'` },
      };
}

/**
 * The port `npm start` and `npm run server` listen on, checked before anything is written or started:
 * `bad_port`, `port_taken` (naming the mesh's URL when a mesh answers there) or `cannot_listen` (the
 * bind's error). `retry` is the command to show with another port.
 */
export async function checkListenPort(
  host: string,
  portText: string,
  retry: string,
): Promise<Result<number, PortRefusal>> {
  const port = parsePort(portText);
  if (!port.ok) return port;
  const refused = await portProblem(host, port.value, retry);
  return refused === undefined ? port : { ok: false, error: refused };
}

/** Whether this process could listen on `host`:`port` now (the same bind partykit's workerd makes). */
function canListenOn(host: string, port: number): Promise<Result<void, string>> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve({ ok: false, error: error.code ?? error.message }));
    // exclusive: a cluster worker must not share the port; the bind itself is the question asked.
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve({ ok: true, value: undefined })));
  });
}

/** The URL a local client reaches `host`:`port` at: a wildcard address is reached on loopback. */
export function localUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

/** Only the service's name is read from `/health` (docs/http-api.md). */
const HealthService = z.object({ service: z.unknown() });

/** Whether an agent-mesh answers at `url` (its `/health` names the service), within `timeoutMs`. */
async function meshAnswersAt(url: string, timeoutMs = 2000): Promise<boolean> {
  // A timer of our own, not AbortSignal.timeout's: that one does not keep the process alive, and a
  // listener that never answers would leave this launcher's top-level await unsettled (exit code 13).
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(`${url}/health`, { signal: abort.signal });
    return HealthService.safeParse(await response.json()).data?.service === "agent-mesh";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Undefined when `host`:`port` is free; else why not, in one line. */
async function portProblem(host: string, port: number, retry: string): Promise<PortRefusal | undefined> {
  const bind = await canListenOn(host, port);
  if (bind.ok) return undefined;
  const url = localUrl(host, port);
  const other = `${retry} --port ${port === 2999 ? 3999 : 2999}`;
  if (bind.error !== "EADDRINUSE")
    return {
      code: "cannot_listen",
      message: `cannot listen on ${host} port ${port} (${bind.error}); pick another port or --host: ${other}`,
    };
  const message = (await meshAnswersAt(url))
    ? `port ${port} is taken: an agent-mesh already runs at ${url} (left running); use it, stop it first, or pick another port: ${other}`
    : `port ${port} on ${host} is taken by another program (left running); pick another port: ${other}`;
  return { code: "port_taken", message };
}
