// The agent's preflight (docs/real-clis.md): a tier is offered only when its program is installed,
// answers --version in time, and takes its flags as the agent's user. Real child processes.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findProgram, preflightTiers } from "../../agents/runtime/tier-preflight.ts";
import type { ExecutorsFile } from "../../protocol/index.ts";

/** A folder of fake programs: each a shell script. */
function bin(scripts: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "mesh-preflight-"));
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const spec = (command: string[], env?: Record<string, string>) => ({
  command,
  format: "claude-stream-json" as const,
  timeout_s: 60,
  ...(env === undefined ? {} : { env }),
});

describe("preflightTiers", () => {
  it("offers tiers whose program answers --version, and says why the others are not offered", async () => {
    const dir = bin({
      good: 'echo "good 1.0"',
      broken: 'echo "cannot load libfoo" >&2; exit 3',
      slow: "exec /bin/sleep 5",
    });
    const file: ExecutorsFile = {
      executors: {
        deepseek: spec(["good", "{prompt}"]),
        "gemini-flash": spec(["missing-cli", "{prompt}"]),
        codex: spec(["broken", "{prompt}"]),
        sonnet: spec(["slow", "{prompt}"]),
        opus: spec([join(dir, "good"), "{prompt}"]),
      },
    };
    const result = await preflightTiers(file, { PATH: dir }, false, 500);
    expect(result.tiers).toEqual(["deepseek", "opus"]);
    expect(result.unavailable["gemini-flash"]).toBe(
      "'missing-cli' is not installed (not found on PATH): install it, or remove gemini-flash from the executors file",
    );
    expect(result.unavailable.codex).toBe(
      "'broken --version' exited with code 3: cannot load libfoo: fix the installation of 'broken'",
    );
    expect(result.unavailable.sonnet).toMatch(/^'slow --version' did not answer within 0.5 s/);
  });

  it("refuses claude's bypassPermissions as root unless IS_SANDBOX=1, and not for another user", async () => {
    const dir = bin({ claude: 'echo "2.1.197 (Claude Code)"' });
    const bypass = spec(["claude", "-p", "{prompt}", "--permission-mode", "bypassPermissions"]);
    const file: ExecutorsFile = {
      executors: {
        sonnet: bypass,
        opus: { ...bypass, env: { IS_SANDBOX: "1" } },
        codex: spec(["claude", "-p", "{prompt}", "--permission-mode", "acceptEdits"]),
      },
    };
    const asRoot = await preflightTiers(file, { PATH: dir }, true);
    expect(asRoot.tiers).toEqual(["codex", "opus"]);
    expect(asRoot.unavailable.sonnet).toContain('add "env": {"IS_SANDBOX": "1"}');
    expect((await preflightTiers(file, { PATH: dir }, false)).tiers).toEqual(["codex", "sonnet", "opus"]);
  });

  it("asks a text executor's program (a shell, a script) only to be installed: dash has no --version", async () => {
    const dir = bin({ broken: "exit 3" });
    const file: ExecutorsFile = {
      executors: {
        deepseek: { command: ["/bin/sh", "-c", "echo {prompt}"], format: "text", timeout_s: 60 },
        codex: { command: ["broken"], format: "text", timeout_s: 60 },
        sonnet: { command: ["broken"], format: "codex-jsonl", timeout_s: 60 },
      },
    };
    const result = await preflightTiers(file, { PATH: dir }, false);
    expect(result.tiers).toEqual(["deepseek", "codex"]);
    expect(result.unavailable.sonnet).toContain("'broken --version' exited with code 3");
  });

  it("finds a program on PATH or by its path, and only an executable file", () => {
    const dir = bin({ tool: "true" });
    writeFileSync(join(dir, "plain"), "not executable");
    expect(findProgram("tool", `/nonexistent:${dir}`)).toBe(join(dir, "tool"));
    expect(findProgram(join(dir, "tool"), undefined)).toBe(join(dir, "tool"));
    expect(findProgram("plain", dir)).toBeUndefined();
    expect(findProgram(dir, undefined)).toBeUndefined();
  });
});
