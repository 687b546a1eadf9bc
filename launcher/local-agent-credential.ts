// `npm start`'s agent and mesh share this checkout's .mesh/ whatever the port (docs/command-line.md).
// The agent keeps its credential per mesh origin, so after `npm start -- --port 2999` following a run
// on 1999 it no longer presented it, enrolled again under its old name, and the mesh (the same rooms,
// which remember the name's credential) refused it name_taken: the agent exited and npm start stopped.
import { join } from "node:path";
import { CREDENTIAL_FILE, readCredentialFile, writeCredential } from "../agents/runtime/agent-credential.ts";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Moves the local agent's credential kept for this machine's mesh on another port to `serverUrl`, so
 * it presents it again. A credential for another host (a mesh elsewhere) or another name stays as it is.
 * Returns the origin it was moved from, if it was.
 */
export function carryCredentialToPort(stateDir: string, name: string, serverUrl: string): string | undefined {
  // Read once, with the agent's own schema; no file (or one that does not parse) leaves the agent to enroll.
  const stored = readCredentialFile(join(stateDir, CREDENTIAL_FILE));
  if (!stored.ok || stored.value.name !== name || !URL.canParse(stored.value.server)) return undefined;
  const server = new URL(serverUrl);
  const previous = new URL(stored.value.server);
  if (previous.origin === server.origin || !LOOPBACK.has(previous.hostname) || !LOOPBACK.has(server.hostname))
    return undefined;
  writeCredential(stateDir, { server: server.origin, name, credential: stored.value.credential });
  return previous.origin;
}
