import { sign, signedBy } from "./signing.ts";

/**
 * An attempt's own token (docs/agent-identity.md; like a CI runner's per-job token): `a1.<task
 * id>.<attempt>.<agent>.<expires s>.<hmac>`, minted by the registry when it hands the attempt to an agent and sent only
 * to that agent, inside `task.assign`. The task room's gate checks the signature (no call to the registry), and the
 * room takes the attempt's hello, lines and exit only over a socket opened with it. Signed with the orchestrator token
 * like viewer links; the `a1.` prefix keeps the two kinds apart.
 */
export type AttemptScope = { taskId: string; attempt: number; agent: string };

/** Long enough for the slowest attempt and its reconnects; the room refuses it anyway once the attempt ended. */
export const ATTEMPT_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

export async function mintAttemptToken(scope: AttemptScope, secret: string, now: number): Promise<string> {
  const payload = `a1.${scope.taskId}.${scope.attempt}.${scope.agent}.${Math.floor((now + ATTEMPT_TOKEN_TTL_MS) / 1000)}`;
  return `${payload}.${await sign(payload, secret)}`;
}

/** The scope of a valid, unexpired attempt token; null otherwise. */
export async function verifyAttemptToken(token: string, secret: string, now: number): Promise<AttemptScope | null> {
  const parts = token.split(".");
  // Agent names may hold dots: the fixed fields are counted from both ends.
  if (parts.length < 6 || parts[0] !== "a1") return null;
  const taskId = parts[1] ?? "";
  const attempt = Number(parts[2]);
  const signature = parts[parts.length - 1] ?? "";
  const expires = parts[parts.length - 2] ?? "";
  const agent = parts.slice(3, -2).join(".");
  if (
    taskId === "" ||
    agent === "" ||
    !Number.isInteger(attempt) ||
    attempt < 1 ||
    !/^\d+$/.test(expires) ||
    Number(expires) * 1000 <= now
  )
    return null;
  if (!(await signedBy(parts.slice(0, -1).join("."), signature, secret))) return null;
  return { taskId, attempt, agent };
}
