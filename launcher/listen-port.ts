// The port `npm start` and `npm run server` listen on (docs/command-line.md): a TCP port 1-65535, and
// one nothing else holds. A taken port is refused before partykit starts, leaving whatever runs there
// untouched: a second mesh on the same port used to find the first one answering /health, take its
// agent's name, and so end the first mesh.
import { createServer } from "node:net";

/** The port `--port` names, or undefined when it is not a whole number 1-65535 (`abc`, `99999`, `1e3`, `0x50`). */
export function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The one line for a `--port` that is no port. */
export function badPortLine(text: string): string {
  return `error: --port must be a whole number from 1 to 65535, got '${text}'`;
}

/** Whether this process could listen on `host`:`port` now (the same bind partykit's workerd makes). */
function canListenOn(host: string, port: number): Promise<{ free: true } | { free: false; reason: string }> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve({ free: false, reason: error.code ?? error.message }));
    // exclusive: a cluster worker must not share the port; the bind itself is the question asked.
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve({ free: true })));
  });
}

/** The URL a local client reaches `host`:`port` at: a wildcard address is reached on loopback. */
export function localUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

/** Whether an agent-mesh answers at `url` (its `/health` names the service), within `timeoutMs`. */
async function meshAnswersAt(url: string, timeoutMs = 2000): Promise<boolean> {
  // A timer of our own, not AbortSignal.timeout's: that one does not keep the process alive, and a
  // listener that never answers would leave this launcher's top-level await unsettled (exit code 13).
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(`${url}/health`, { signal: abort.signal });
    const body = (await response.json()) as { service?: unknown };
    return body.service === "agent-mesh";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Undefined when `host`:`port` is free; else why not, in one line: `taken` when something listens
 * there (naming the mesh's URL when a mesh answers), else the bind's error (EACCES, EADDRNOTAVAIL…).
 * `retry` is the command to show with another port.
 */
export async function portProblem(host: string, port: number, retry: string): Promise<{ taken: boolean; line: string } | undefined> {
  const bind = await canListenOn(host, port);
  if (bind.free) return undefined;
  const url = localUrl(host, port);
  const other = `${retry} --port ${port === 2999 ? 3999 : 2999}`;
  if (bind.reason !== "EADDRINUSE") return { taken: false, line: `error: cannot listen on ${host} port ${port} (${bind.reason}); pick another port or --host: ${other}` };
  const line = (await meshAnswersAt(url))
    ? `error: port ${port} is taken: an agent-mesh already runs at ${url} (left running); use it, stop it first, or pick another port: ${other}`
    : `error: port ${port} on ${host} is taken by another program (left running); pick another port: ${other}`;
  return { taken: true, line };
}
