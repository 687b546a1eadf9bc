import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where the agent keeps its own credential, in its state directory (docs/agent-identity.md). */
export const CREDENTIAL_FILE = "credential.json";

type StoredCredential = { server: string; name: string; credential: string };

/**
 * The agent's credentials (docs/agent-identity.md): its own, kept in its state directory with mode 0600 once the
 * registry enrolled it, else the enrollment token from MESH_AGENT_TOKEN. A credential is kept per mesh
 * (its origin) and name, so an agent pointed at another mesh enrolls there instead of presenting it.
 */
export class AgentCredential {
  private own: string | undefined;
  readonly file: string;

  constructor(
    private readonly stateDir: string,
    private readonly server: URL,
    private readonly name: string,
    private readonly enrollmentToken: string | undefined,
  ) {
    this.file = join(stateDir, CREDENTIAL_FILE);
    this.own = readCredential(this.file, server, name);
  }

  /** Whether the agent holds its own credential (else it enrolls). */
  get enrolled(): boolean {
    return this.own !== undefined;
  }

  /** What the next registry connection presents. */
  token(): string {
    return this.own ?? this.enrollmentToken ?? "";
  }

  /** Keeps the credential the registry gave: written to a temporary file with mode 0600, then renamed over the old one. */
  keep(credential: string): void {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const stored: StoredCredential = { server: this.server.origin, name: this.name, credential };
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.file);
    this.own = credential;
  }

  /** The mesh no longer knows it: drop it and enroll again, if an enrollment token is there to do it. */
  forget(): boolean {
    rmSync(this.file, { force: true });
    this.own = undefined;
    return this.enrollmentToken !== undefined;
  }
}

/** The credential stored for this mesh and name, if any. */
export function readCredential(file: string, server: URL, name: string): string | undefined {
  try {
    const stored = JSON.parse(readFileSync(file, "utf8")) as Partial<StoredCredential>;
    return stored.server === server.origin && stored.name === name && typeof stored.credential === "string" ? stored.credential : undefined;
  } catch {
    return undefined;
  }
}
