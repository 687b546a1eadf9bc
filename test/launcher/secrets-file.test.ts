import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadOrCreateSecrets } from "../../launcher/secrets-file.ts";
import { tempDirs } from "../temp-dirs.ts";

const tempDir = tempDirs();

// The local mesh's secrets file (docs/settings.md): created once, read back as written.
describe("the local secrets file", () => {
  it("is created with two new tokens, mode 600, and read back the same next time", () => {
    const file = join(tempDir("secrets-"), "secrets.env");
    const first = loadOrCreateSecrets(file, {});
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadOrCreateSecrets(file, {});
    expect(again).toEqual({ secrets: first.secrets, created: false });
  });

  it("reads a hand-set token to its end, '#' and quotes included (never dotenv's comment rules)", () => {
    const file = join(tempDir("secrets-"), "secrets.env");
    const orchestrator = 'hand#set"token-with-a-hash-and-quotes-0123456789';
    const agent = "agent-token-0123456789-0123456789-0123456789";
    writeFileSync(file, `# kept private\nMESH_ORCHESTRATOR_TOKEN=${orchestrator}\nMESH_AGENT_TOKEN=${agent}\n`);
    const read = loadOrCreateSecrets(file, {});
    expect(read).toEqual({
      secrets: { MESH_ORCHESTRATOR_TOKEN: orchestrator, MESH_AGENT_TOKEN: agent },
      created: false,
    });
    expect(readFileSync(file, "utf8")).toContain(orchestrator);
  });

  it("prefers the environment's tokens to the file's", () => {
    const file = join(tempDir("secrets-"), "secrets.env");
    loadOrCreateSecrets(file, {});
    const token = "from-the-environment-0123456789-0123456789";
    expect(loadOrCreateSecrets(file, { MESH_ORCHESTRATOR_TOKEN: token }).secrets.MESH_ORCHESTRATOR_TOKEN).toBe(token);
  });
});
