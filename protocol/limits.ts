/**
 * Size limits shared by agents, rooms and the HTTP edge. Each is written once, here.
 * Why these numbers: one stored value on a Durable Object is capped (128 KiB on the
 * key-value backend), and a frame should stay far below the 32 MiB socket limit.
 */

/**
 * Largest WebSocket frame any room reads, in bytes of its UTF-8 text; a larger one is answered
 * with `message_too_large`. Frames over the runtime's own limit (1 MiB in workerd 2024-07) never
 * reach the room: the runtime closes the socket with 1009 (`RUNTIME_FRAME_LIMIT_BYTES`).
 */
export const MAX_FRAME_BYTES = 256 * 1024;

/** The runtime's frame limit: above it the socket is closed with code 1009 (message too big). */
export const RUNTIME_FRAME_LIMIT_BYTES = 1024 * 1024;

/** Largest HTTP request body, in bytes. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Secrets shorter than this are refused: the server does not start with them (INTERFACES.md "Agent identity and limits"). */
export const MIN_SECRET_CHARS = 32;
/** The secrets the server needs, by setting name. */
export const SECRET_SETTINGS = ["MESH_ORCHESTRATOR_TOKEN", "MESH_AGENT_TOKEN"] as const;

/**
 * What is wrong with the server's secrets, as one line saying what to set; null when both are there
 * and long enough. The launcher (before starting) and the worker (on every request) ask the same.
 */
export function secretsProblem(env: Readonly<Record<string, unknown>>): string | null {
  for (const name of SECRET_SETTINGS) {
    const value = env[name];
    if (typeof value !== "string" || value.length === 0) return `${name} is not set; set it to a random secret of ${MIN_SECRET_CHARS}+ characters (npm start generates one into .mesh/secrets.env)`;
    if (value.length < MIN_SECRET_CHARS) return `${name} is ${value.length} characters; set it to a random secret of ${MIN_SECRET_CHARS}+ characters (e.g. openssl rand -base64 32)`;
  }
  return null;
}

/** Longest output line, in characters; agents split longer lines into pieces. */
export const MAX_LINE_CHARS = 4096;

/** Most lines in one `log.batch`. */
export const MAX_LINES_PER_BATCH = 512;

/** Longest instruction or prompt, in characters. */
export const MAX_INSTRUCTION_CHARS = 100_000;

/** Most log lines one read returns (HTTP `limit` and socket replays). */
export const MAX_LOG_READ = 1000;
