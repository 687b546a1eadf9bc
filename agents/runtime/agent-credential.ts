import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Result } from "../../protocol/result.ts";
import { type FileFault, readJsonFile } from "./json-file.ts";

/** Where the agent keeps its own credential, in its state directory (docs/agent-identity.md). */
export const CREDENTIAL_FILE = "credential.json";

/** The credential file: the mesh's origin and the agent's name it was given for, and the credential. */
export const StoredCredential = z.object({ server: z.string(), name: z.string(), credential: z.string() });
export type StoredCredential = z.infer<typeof StoredCredential>;

/**
 * What an agent presents when it starts: its own credential for this mesh and name, else the enrollment token; never
 * neither.
 */
export type CredentialStart = { own: string; enrollmentToken?: string } | { own?: undefined; enrollmentToken: string };

/** Why an agent cannot start: no enrollment token and no credential of its own for this mesh and name. */
export type CredentialRefusal = { code: "no_credential"; message: string };

/**
 * The agent's credentials (docs/agent-identity.md): its own, kept in its state directory with mode 0600 once the
 * registry enrolled it, else the enrollment token from MESH_AGENT_TOKEN. A credential is kept per mesh
 * (its origin) and name, so an agent pointed at another mesh enrolls there instead of presenting it.
 */
export class AgentCredential {
  /** What the next connection presents: the own credential once there is one, else the enrollment token. */
  private presented: string;
  private holdsOwn: boolean;
  private readonly enrollmentToken: string | undefined;
  readonly file: string;

  constructor(
    private readonly stateDir: string,
    private readonly server: URL,
    private readonly name: string,
    start: CredentialStart,
  ) {
    this.file = join(stateDir, CREDENTIAL_FILE);
    this.enrollmentToken = start.enrollmentToken;
    this.presented = start.own ?? start.enrollmentToken;
    this.holdsOwn = start.own !== undefined;
  }

  /** Whether the agent holds its own credential (else it enrolls). */
  get enrolled(): boolean {
    return this.holdsOwn;
  }

  /** What the next registry connection presents. */
  token(): string {
    return this.presented;
  }

  /**
   * Keeps the credential the registry gave: written to a temporary file with mode 0600, then renamed over the old one.
   */
  keep(credential: string): void {
    writeCredential(this.stateDir, { server: this.server.origin, name: this.name, credential });
    this.presented = credential;
    this.holdsOwn = true;
  }

  /** The mesh no longer knows it: drop it and enroll again, if an enrollment token is there to do it. */
  forget(): boolean {
    rmSync(this.file, { force: true });
    this.holdsOwn = false;
    // Without an enrollment token the forgotten credential stays presented: the mesh refuses it, and the link ends the
    // agent with the reason.
    if (this.enrollmentToken === undefined) return false;
    this.presented = this.enrollmentToken;
    return true;
  }
}

/** Writes `stored` to `stateDir`'s credential file: a temporary file with mode 0600, then renamed over the old one. */
export function writeCredential(stateDir: string, stored: StoredCredential): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, CREDENTIAL_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/** The credential file, parsed with its schema (read once). */
export function readCredentialFile(file: string): Result<StoredCredential, FileFault> {
  const read = readJsonFile(file, StoredCredential);
  return read.ok ? read : { ok: false, error: { code: read.error.code, message: `${file}: ${read.error.message}` } };
}

/**
 * What the agent starts with: its own credential kept for this mesh and name, else `enrollmentToken`
 * (MESH_AGENT_TOKEN; empty counts as missing). Neither is `no_credential`: the agent stops at start
 * with one line saying what to set, never connecting with an empty token (docs/agent-identity.md).
 */
export function credentialStart(
  stateDir: string,
  server: URL,
  name: string,
  enrollmentToken: string | undefined,
): Result<CredentialStart, CredentialRefusal> {
  const file = join(stateDir, CREDENTIAL_FILE);
  const stored = readCredentialFile(file);
  const own =
    stored.ok && stored.value.server === server.origin && stored.value.name === name
      ? stored.value.credential
      : undefined;
  const token = enrollmentToken === undefined || enrollmentToken.length === 0 ? undefined : enrollmentToken;
  if (own !== undefined) return { ok: true, value: token === undefined ? { own } : { own, enrollmentToken: token } };
  if (token !== undefined) return { ok: true, value: { enrollmentToken: token } };
  const why = stored.ok || stored.error.code === "absent" ? "" : ` (${stored.error.message})`;
  return {
    ok: false,
    error: {
      code: "no_credential",
      message: `MESH_AGENT_TOKEN is not set and ${file} holds no credential for this mesh${why}: export the mesh's agent (enrollment) token, which the server prints when it starts, and run again`,
    },
  };
}

/** The credential stored for this mesh and name, if any. */
export function readCredential(file: string, server: URL, name: string): string | undefined {
  const stored = readCredentialFile(file);
  return stored.ok && stored.value.server === server.origin && stored.value.name === name
    ? stored.value.credential
    : undefined;
}
