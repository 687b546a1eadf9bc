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

/** Longest output line, in characters; agents split longer lines into pieces. */
export const MAX_LINE_CHARS = 4096;

/** Most lines in one `log.batch`. */
export const MAX_LINES_PER_BATCH = 512;

/** Longest instruction or prompt, in characters. */
export const MAX_INSTRUCTION_CHARS = 100_000;

/** Most log lines one read returns (HTTP `limit` and socket replays). */
export const MAX_LOG_READ = 1000;
