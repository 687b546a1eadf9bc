// npm start on another port than last time keeps the local agent's credential (docs/command-line.md):
// the credential the agent kept for this machine's mesh on the old port moves to the new one, read back
// by the agent's own module; one for a mesh elsewhere, or for another name, stays where it is.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CREDENTIAL_FILE, readCredential, writeCredential } from "../../agents/runtime/agent-credential.ts";
import { carryCredentialToPort } from "../../launcher/local-agent-credential.ts";

const dirs: string[] = [];
function keptFor(server: string, name = "local-vm"): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-credential-"));
  dirs.push(dir);
  writeCredential(dir, { server: new URL(server).origin, name, credential: "agent-credential-0123456789abcdef" });
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the local agent's credential across ports", () => {
  it("moves from this machine's mesh on the old port to the new one", () => {
    const dir = keptFor("http://127.0.0.1:1999");
    expect(carryCredentialToPort(dir, "local-vm", "http://127.0.0.1:2999")).toBe("http://127.0.0.1:1999");
    expect(readCredential(join(dir, CREDENTIAL_FILE), new URL("http://127.0.0.1:2999"), "local-vm")).toBe(
      "agent-credential-0123456789abcdef",
    );
    // Already there: nothing to move.
    expect(carryCredentialToPort(dir, "local-vm", "http://127.0.0.1:2999")).toBeUndefined();
  });

  it("leaves a credential for a mesh elsewhere, or for another name, where it is", () => {
    const remote = keptFor("https://mesh.example.com");
    expect(carryCredentialToPort(remote, "local-vm", "http://127.0.0.1:2999")).toBeUndefined();
    expect(readCredential(join(remote, CREDENTIAL_FILE), new URL("https://mesh.example.com"), "local-vm")).toBe(
      "agent-credential-0123456789abcdef",
    );
    const other = keptFor("http://127.0.0.1:1999", "laptop");
    expect(carryCredentialToPort(other, "local-vm", "http://127.0.0.1:2999")).toBeUndefined();
    expect(readCredential(join(other, CREDENTIAL_FILE), new URL("http://127.0.0.1:1999"), "laptop")).toBe(
      "agent-credential-0123456789abcdef",
    );
    const none = mkdtempSync(join(tmpdir(), "mesh-credential-"));
    dirs.push(none);
    expect(carryCredentialToPort(none, "local-vm", "http://127.0.0.1:2999")).toBeUndefined();
  });
});
