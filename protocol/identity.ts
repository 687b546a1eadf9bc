import { z } from "zod";
import type { Result } from "./result.ts";

// Agent identity (docs/agent-identity.md). Enrollment tokens may only
// register an agent; the agent then holds its own credential, and a task room takes an attempt only
// over the attempt token the registry handed to the agent it assigned the attempt to.

/** Secrets shorter than this are refused: the server does not start with them (docs/settings.md). */
export const MIN_SECRET_CHARS = 32;
/** The secrets the server needs, by setting name. */
export const SECRET_SETTINGS = ["MESH_ORCHESTRATOR_TOKEN", "MESH_AGENT_TOKEN"] as const;

/**
 * What is wrong with the server's secrets, as one line saying what to set; null when they are there
 * and long enough. The launcher (before starting) and the worker (on every request) ask the same.
 */
export function secretsProblem(env: Readonly<Record<string, unknown>>): string | null {
  for (const name of SECRET_SETTINGS) {
    const value = env[name];
    if (typeof value !== "string" || value.length === 0)
      return `${name} is not set; set it to a random secret of ${MIN_SECRET_CHARS}+ characters (npm start generates one into .mesh/secrets.env)`;
    if (value.length < MIN_SECRET_CHARS)
      return `${name} is ${value.length} characters; set it to a random secret of ${MIN_SECRET_CHARS}+ characters (e.g. openssl rand -base64 32)`;
  }
  const tokens = enrollmentTokens(env);
  return tokens.ok ? null : tokens.error;
}

/**
 * An agent's own credential: `mesh-agent:<name>:<random>`. The name lets a gate say whose it claims; the registry
 * checks its hash.
 */
export const AGENT_CREDENTIAL_PREFIX = "mesh-agent:";

/** The agent name a credential claims, or null when the text is not shaped like one. */
export function credentialAgentName(token: string): string | null {
  if (!token.startsWith(AGENT_CREDENTIAL_PREFIX)) return null;
  const rest = token.slice(AGENT_CREDENTIAL_PREFIX.length);
  const colon = rest.lastIndexOf(":");
  if (colon <= 0) return null;
  const name = rest.slice(0, colon);
  const secret = rest.slice(colon + 1);
  return AGENT_NAME_PATTERN.test(name) && secret.length >= MIN_SECRET_CHARS ? name : null;
}

/**
 * Short names (agents, tasks, kinds, plan keys, enrollment tokens): 1-64 of letters, digits, '.', '_', '-', starting
 * with a letter or digit.
 */
export const SHORT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Agent names: what `agent.hello` accepts. */
export const AGENT_NAME_PATTERN = SHORT_NAME_PATTERN;

/** The setting with the extra enrollment tokens: a JSON array of `{name, token, expires?}`. */
export const ENROLLMENT_TOKENS_SETTING = "MESH_ENROLLMENT_TOKENS";
/** The name `MESH_AGENT_TOKEN` enrolls under. */
export const DEFAULT_ENROLLMENT_NAME = "default";

export const EnrollmentToken = z
  .object({
    /** Recorded in the audit log and on each agent it enrolled; never the secret. */
    name: z.string().regex(SHORT_NAME_PATTERN, "a name of letters, digits, '.', '_' or '-'"),
    token: z.string().min(MIN_SECRET_CHARS, `a random secret of ${MIN_SECRET_CHARS}+ characters`),
    /** ISO 8601 time after which it enrolls nothing (agents it enrolled keep their credentials). */
    expires: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type EnrollmentToken = z.infer<typeof EnrollmentToken>;

/**
 * Every enrollment token the server's settings name: `MESH_AGENT_TOKEN` as `default`, then those of
 * `MESH_ENROLLMENT_TOKENS`. An error names the bad entry and what to set.
 */
export function enrollmentTokens(env: Readonly<Record<string, unknown>>): Result<EnrollmentToken[], string> {
  const base = env.MESH_AGENT_TOKEN;
  const extra = env[ENROLLMENT_TOKENS_SETTING];
  // Every request's credential check reads the settings: the JSON is parsed once per text, not per request.
  if (lastRead !== undefined && lastRead.base === base && lastRead.extra === extra) return lastRead.result;
  const result = readEnrollmentTokens(base, extra);
  lastRead = { base, extra, result };
  return result;
}

let lastRead: { base: unknown; extra: unknown; result: Result<EnrollmentToken[], string> } | undefined;

function readEnrollmentTokens(base: unknown, extra: unknown): Result<EnrollmentToken[], string> {
  const tokens: EnrollmentToken[] = [];
  if (typeof base === "string" && base.length > 0) tokens.push({ name: DEFAULT_ENROLLMENT_NAME, token: base });
  if (extra === undefined || extra === "") return { ok: true, value: tokens };
  let parsed: unknown;
  try {
    parsed = typeof extra === "string" ? JSON.parse(extra) : extra;
  } catch {
    return {
      ok: false,
      error: `${ENROLLMENT_TOKENS_SETTING} is not JSON; set it to a JSON array of {"name","token","expires"?}`,
    };
  }
  const list = z.array(EnrollmentToken).safeParse(parsed);
  if (!list.success) {
    const issue = list.error.issues[0];
    return {
      ok: false,
      error: `${ENROLLMENT_TOKENS_SETTING}${issue === undefined ? "" : `[${issue.path.join("].")}`}: ${issue?.message ?? "invalid"}; set it to a JSON array of {"name","token","expires"?}`,
    };
  }
  for (const token of list.data) {
    if (tokens.some((t) => t.name === token.name))
      return {
        ok: false,
        error: `${ENROLLMENT_TOKENS_SETTING} names "${token.name}" twice; give each token its own name`,
      };
    tokens.push(token);
  }
  return { ok: true, value: tokens };
}
