// `npm start`'s agent and mesh share this checkout's .mesh/ whatever the port (docs/command-line.md).
// The agent keeps its credential per mesh origin, so after `npm start -- --port 2999` following a run
// on 1999 it no longer presented it, enrolled again under its old name, and the mesh (the same rooms,
// which remember the name's credential) refused it name_taken: the agent exited and npm start stopped.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { AgentCredential, CREDENTIAL_FILE, readCredential } from "../agents/runtime/agent-credential.ts";

/** Only the origin is read here; the agent's own module reads and writes the rest. */
const StoredOrigin = z.object({ server: z.string() });
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Moves the local agent's credential kept for this machine's mesh on another port to `serverUrl`, so
 * it presents it again. A credential for another host (a mesh elsewhere) or another name stays as it is.
 * Returns the origin it was moved from, if it was.
 */
export function carryCredentialToPort(stateDir: string, name: string, serverUrl: string): string | undefined {
  const file = join(stateDir, CREDENTIAL_FILE);
  let stored: z.infer<typeof StoredOrigin>;
  try {
    const parsed = StoredOrigin.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) return undefined;
    stored = parsed.data;
  } catch {
    return undefined;
  }
  const server = new URL(serverUrl);
  let previous: URL;
  try {
    previous = new URL(stored.server);
  } catch {
    return undefined;
  }
  if (previous.origin === server.origin || !LOOPBACK.has(previous.hostname) || !LOOPBACK.has(server.hostname)) return undefined;
  const credential = readCredential(file, previous, name);
  if (credential === undefined) return undefined;
  new AgentCredential(stateDir, server, name, undefined).keep(credential);
  return previous.origin;
}
