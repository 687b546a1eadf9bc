import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { secretsProblem } from "../protocol/index.ts";

export type Secrets = { MESH_ORCHESTRATOR_TOKEN: string; MESH_AGENT_TOKEN: string };

const NAMES = ["MESH_ORCHESTRATOR_TOKEN", "MESH_AGENT_TOKEN"] as const;

/** A fresh random token (256 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The secrets for a local mesh: from the environment when set there, otherwise from `file`
 * (git-ignored, mode 600), which is created with new random tokens on first use.
 */
export function loadOrCreateSecrets(file: string, env: NodeJS.ProcessEnv = process.env): { secrets: Secrets; created: boolean } {
  const stored: Partial<Secrets> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const match = /^(MESH_[A-Z_]+)=(.+)$/.exec(line.trim());
      if (match && (NAMES as readonly string[]).includes(match[1] ?? "")) stored[match[1] as keyof Secrets] = match[2];
    }
  }
  const secrets: Secrets = {
    MESH_ORCHESTRATOR_TOKEN: env.MESH_ORCHESTRATOR_TOKEN ?? stored.MESH_ORCHESTRATOR_TOKEN ?? newToken(),
    MESH_AGENT_TOKEN: env.MESH_AGENT_TOKEN ?? stored.MESH_AGENT_TOKEN ?? newToken(),
  };
  const created = stored.MESH_ORCHESTRATOR_TOKEN !== secrets.MESH_ORCHESTRATOR_TOKEN || stored.MESH_AGENT_TOKEN !== secrets.MESH_AGENT_TOKEN;
  // A short or empty secret from the environment is never written down: the caller refuses it (docs/settings.md).
  if (created && secretsProblem(secrets) === null) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `# agent-mesh local secrets (generated; keep private)\n${NAMES.map((name) => `${name}=${secrets[name]}`).join("\n")}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { secrets, created };
}
