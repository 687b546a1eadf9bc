import { z } from "zod";

// A CLI session carried from one agent to another (docs/sessions.md): the agent that ran an attempt
// sends the CLI's session file, compressed, in pieces; the task room keeps it; a later attempt that
// goes to another agent is told it exists (task.assign's `resume.archive`) and fetches it.

/** The CLIs whose session an agent can carry: claude's project transcript, codex's rollout file, opencode's export. */
export const CarriedCli = z.enum(["claude", "codex", "opencode"]);
export type CarriedCli = z.infer<typeof CarriedCli>;

/**
 * Largest archive kept, in bytes of its gzip: a larger session is not sent (the agent says so in the
 * attempt's log) and a later attempt on another agent starts fresh with the evidence.
 */
export const SESSION_ARCHIVE_MAX_BYTES = 1024 * 1024;

/**
 * Base64 characters in one piece: one frame (under MAX_FRAME_BYTES, 256 KiB) and one stored value
 * (Durable Object values are capped at 128 KiB; 60,000 characters are 120 KB even as UTF-16).
 */
export const SESSION_ARCHIVE_PIECE_CHARS = 60_000;

/** Pieces of the largest archive: 1 MiB of gzip is 1,398,104 base64 characters, 24 pieces. */
export const SESSION_ARCHIVE_MAX_PIECES = Math.ceil(
  (Math.ceil(SESSION_ARCHIVE_MAX_BYTES / 3) * 4) / SESSION_ARCHIVE_PIECE_CHARS,
);

/** What an archive is, whichever piece or record carries it. */
export const SessionArchiveFacts = z.object({
  /** The attempt whose CLI session this is. */
  attempt: z.number().int().positive(),
  cli: CarriedCli,
  session_id: z.string().min(1).max(200),
  /** The directory the CLI ran in: paths under it are rewritten for the next agent's worktree. */
  cwd: z.string().min(1).max(4096),
  /**
   * The file's path relative to the CLI's session folder (codex: `YYYY/MM/DD/rollout-….jsonl`; claude: `<id>.jsonl`;
   * opencode: `<id>.json`, an export).
   */
  file: z
    .string()
    .min(1)
    .max(500)
    .refine((path) => !path.split("/").includes("..") && !path.startsWith("/"), "file: a relative path without '..'"),
  encoding: z.literal("gzip-base64"),
  /** Bytes of the session file before compression. */
  bytes: z.number().int().nonnegative(),
  /** Bytes of the gzip. */
  gzip_bytes: z.number().int().positive().max(SESSION_ARCHIVE_MAX_BYTES),
  /** SHA-256 of the gzip, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** How many pieces carry it. */
  count: z.number().int().positive().max(SESSION_ARCHIVE_MAX_PIECES),
});
export type SessionArchiveFacts = z.infer<typeof SessionArchiveFacts>;

/** Agent → task room, before `attempt.exit` on the same connection: one piece of the attempt's CLI session. */
export const AttemptSessionArchive = SessionArchiveFacts.extend({
  type: z.literal("attempt.session_archive"),
  index: z
    .number()
    .int()
    .nonnegative()
    .max(SESSION_ARCHIVE_MAX_PIECES - 1),
  /** Base64 of this piece's part of the gzip. */
  data: z.string().min(1).max(SESSION_ARCHIVE_PIECE_CHARS),
});
export type AttemptSessionArchive = z.infer<typeof AttemptSessionArchive>;

/** In task.assign's `resume`: the room holds this attempt's session; fetch it to continue it on another agent. */
export const SessionArchiveRef = SessionArchiveFacts.pick({
  cli: true,
  session_id: true,
  gzip_bytes: true,
  sha256: true,
});
export type SessionArchiveRef = z.infer<typeof SessionArchiveRef>;

/**
 * The room's answer to an agent fetching an archive (`GET /parties/task/<id>?session_archive=<n>`, with its attempt
 * token).
 */
export const SessionArchiveDownload = SessionArchiveFacts.extend({
  /** Base64 of the whole gzip. */
  data: z.string().min(1),
  /** The attempt's diff (base → its commit), when it had one: the new worktree gets the same changes. */
  diff: z.string().optional(),
});
export type SessionArchiveDownload = z.infer<typeof SessionArchiveDownload>;

/** The query parameter of that fetch. */
export const SESSION_ARCHIVE_PARAM = "session_archive";
