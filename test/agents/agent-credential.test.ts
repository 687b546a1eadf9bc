// The agent's credential (docs/agent-identity.md): the file is read once with its schema, a corrupt
// one is a typed fault, and the agent always presents a token: its own, else the enrollment token.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  AgentCredential,
  CREDENTIAL_FILE,
  credentialStart,
  readCredentialFile,
  writeCredential,
} from "../../agents/runtime/agent-credential.ts";

const server = new URL("http://127.0.0.1:1999");
const dirs: string[] = [];
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-agent-credential-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the agent's credential", () => {
  it("reads the file with its schema: absent, not JSON and not a credential are typed faults", () => {
    const dir = stateDir();
    const file = join(dir, CREDENTIAL_FILE);
    expect(readCredentialFile(file)).toMatchObject({ ok: false, error: { code: "absent" } });
    writeFileSync(file, "{not json");
    expect(readCredentialFile(file)).toMatchObject({ ok: false, error: { code: "not_json" } });
    writeFileSync(file, JSON.stringify({ server: server.origin, name: "vm-1" }));
    expect(readCredentialFile(file)).toMatchObject({ ok: false, error: { code: "invalid" } });
    writeCredential(dir, { server: server.origin, name: "vm-1", credential: "mesh-agent:vm-1:secret" });
    expect(readCredentialFile(file)).toEqual({
      ok: true,
      value: { server: server.origin, name: "vm-1", credential: "mesh-agent:vm-1:secret" },
    });
  });

  it("starts with its own credential for this mesh and name, else the enrollment token, else refuses no_credential", () => {
    const dir = stateDir();
    expect(credentialStart(dir, server, "vm-1", undefined)).toMatchObject({
      ok: false,
      error: { code: "no_credential" },
    });
    expect(credentialStart(dir, server, "vm-1", "")).toMatchObject({ ok: false, error: { code: "no_credential" } });
    expect(credentialStart(dir, server, "vm-1", "enroll")).toEqual({ ok: true, value: { enrollmentToken: "enroll" } });
    writeFileSync(join(dir, CREDENTIAL_FILE), "{not json");
    const corrupt = credentialStart(dir, server, "vm-1", undefined);
    expect(corrupt).toMatchObject({
      ok: false,
      error: { code: "no_credential", message: expect.stringContaining("not valid JSON") },
    });
    writeCredential(dir, { server: server.origin, name: "vm-1", credential: "own" });
    expect(credentialStart(dir, server, "vm-1", undefined)).toEqual({ ok: true, value: { own: "own" } });
    expect(credentialStart(dir, server, "other", undefined)).toMatchObject({
      ok: false,
      error: { code: "no_credential" },
    });
    expect(credentialStart(dir, new URL("http://127.0.0.1:2999"), "vm-1", "enroll")).toEqual({
      ok: true,
      value: { enrollmentToken: "enroll" },
    });
  });

  it("presents the enrollment token, then its own once kept, and the enrollment token again once forgotten", () => {
    const dir = stateDir();
    const credential = new AgentCredential(dir, server, "vm-1", { enrollmentToken: "enroll" });
    expect([credential.token(), credential.enrolled]).toEqual(["enroll", false]);
    credential.keep("own");
    expect([credential.token(), credential.enrolled]).toEqual(["own", true]);
    expect(readCredentialFile(join(dir, CREDENTIAL_FILE))).toMatchObject({ ok: true, value: { credential: "own" } });
    expect(credential.forget()).toBe(true);
    expect([credential.token(), credential.enrolled]).toEqual(["enroll", false]);
    // Without an enrollment token it cannot enroll again: never an empty token.
    const alone = new AgentCredential(dir, server, "vm-1", { own: "own" });
    expect(alone.forget()).toBe(false);
    expect(alone.token()).toBe("own");
  });
});
