import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Result, SECRET_SETTINGS, secretsProblem } from "../protocol/index.ts";

export type Secrets = { MESH_ORCHESTRATOR_TOKEN: string; MESH_AGENT_TOKEN: string };

const NAMES = SECRET_SETTINGS;

/**
 * Why the server must not start with its secrets: one is missing or empty, or refused (too short, bad enrollment
 * tokens).
 */
export type SecretsRefusal = { code: "secret_missing" | "secret_refused"; message: string };

/**
 * The two secrets from `env`, or the one line saying what to set (docs/settings.md): a missing or
 * empty secret stops the process at start, never an empty token that a room answers 401 to later.
 */
export function secretsFrom(env: Readonly<Record<string, unknown>>): Result<Secrets, SecretsRefusal> {
  const problem = secretsProblem(env);
  const { MESH_ORCHESTRATOR_TOKEN: orchestrator, MESH_AGENT_TOKEN: agent } = env;
  if (problem === null && typeof orchestrator === "string" && typeof agent === "string")
    return { ok: true, value: { MESH_ORCHESTRATOR_TOKEN: orchestrator, MESH_AGENT_TOKEN: agent } };
  const missing = NAMES.some((name) => typeof env[name] !== "string" || env[name] === "");
  return {
    ok: false,
    error: {
      code: missing ? "secret_missing" : "secret_refused",
      message: problem ?? `${NAMES.join(" and ")} must be set`,
    },
  };
}

/** A fresh random token (256 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The secrets for a local mesh: from the environment when set there, otherwise from `file`
 * (git-ignored, mode 600), which is created with new random tokens on first use.
 */
export function loadOrCreateSecrets(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): { secrets: Secrets; created: boolean } {
  const lines = existsSync(file) ? storedSecrets(readFileSync(file, "utf8")) : new Map<string, string>();
  const stored = {
    MESH_ORCHESTRATOR_TOKEN: lines.get("MESH_ORCHESTRATOR_TOKEN") || undefined,
    MESH_AGENT_TOKEN: lines.get("MESH_AGENT_TOKEN") || undefined,
  };
  const secrets: Secrets = {
    MESH_ORCHESTRATOR_TOKEN: env.MESH_ORCHESTRATOR_TOKEN ?? stored.MESH_ORCHESTRATOR_TOKEN ?? newToken(),
    MESH_AGENT_TOKEN: env.MESH_AGENT_TOKEN ?? stored.MESH_AGENT_TOKEN ?? newToken(),
  };
  const created =
    stored.MESH_ORCHESTRATOR_TOKEN !== secrets.MESH_ORCHESTRATOR_TOKEN ||
    stored.MESH_AGENT_TOKEN !== secrets.MESH_AGENT_TOKEN;
  // A short or empty secret from the environment is never written down: the caller refuses it (docs/settings.md).
  if (created && secretsProblem(secrets) === null) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      `# agent-mesh local secrets (generated; keep private)\n${NAMES.map((name) => `${name}=${secrets[name]}`).join("\n")}\n`,
      { mode: 0o600 },
    );
    chmodSync(file, 0o600);
  }
  return { secrets, created };
}

/**
 * The file's `NAME=value` lines, each value as written to its end (an empty value counts as absent).
 * Not dotenv's rules: those end a value at `#` and strip quotes, so a hand-set token holding either
 * would be read as another token than the one a person copies from the file.
 */
function storedSecrets(text: string): Map<string, string> {
  const stored = new Map<string, string>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    const at = trimmed.indexOf("=");
    if (at > 0) stored.set(trimmed.slice(0, at), trimmed.slice(at + 1));
  }
  return stored;
}
