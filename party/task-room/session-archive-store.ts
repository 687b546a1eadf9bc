import { z } from "zod";
import {
  type AttemptSessionArchive,
  type Result,
  type SessionArchiveDownload,
  SessionArchiveFacts,
  type SessionArchiveRef,
} from "../../protocol/index.ts";
import { hex } from "../auth/signing.ts";
import { readStored } from "../stored-records.ts";
import type { LogStorage } from "./log-store.ts";

// Each attempt's CLI session as its agent sent it (docs/sessions.md): the facts under one key, the
// base64 of the gzip in pieces under others (one stored value is capped at 128 KiB), so a later
// attempt on another agent can continue the session.

const prefixOf = (attempt: number): string => `session:${String(attempt).padStart(3, "0")}:`;
const factsKey = (attempt: number): string => `${prefixOf(attempt)}facts`;
const pieceKey = (attempt: number, index: number): string =>
  `${prefixOf(attempt)}piece:${String(index).padStart(2, "0")}`;

/** Why a stored archive cannot be served. */
export type SessionArchiveFault =
  /** The attempt sent no archive. */
  | { code: "missing"; message: string }
  /** Its record or a piece is not what was written: unreadable, a piece absent, or a checksum that differs. */
  | { code: "corrupt"; message: string };

const StoredPiece = z.string().min(1);

/** The SHA-256, hex, of the bytes `data` (base64) decodes to; workerd and Node both have Web Crypto. */
async function sha256OfBase64(data: string): Promise<string> {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

export class SessionArchiveStore {
  /** `where` names the reader (the room) in the log line a corrupt record gets. */
  constructor(
    private readonly storage: LogStorage,
    private readonly where = "task session archives",
  ) {}

  /**
   * Issues the write of one piece and of the facts every piece repeats (not awaited by the room: the
   * output gate holds what is sent after it). A piece sent again after a reconnect lands on its key.
   */
  put(piece: AttemptSessionArchive): Promise<void> {
    const { type: _type, index, data, ...facts } = piece;
    return this.storage.put({ [factsKey(piece.attempt)]: facts, [pieceKey(piece.attempt, index)]: data });
  }

  /** What task.assign's `resume.archive` says of the attempt's stored archive; undefined when there is none. */
  async refOf(attempt: number): Promise<SessionArchiveRef | undefined> {
    // A corrupt record (logged) is no archive to offer: the later attempt runs fresh.
    const facts = await readStored(this.storage, this.where, factsKey(attempt), SessionArchiveFacts);
    if (!facts.ok || facts.value === undefined) return undefined;
    return {
      cli: facts.value.cli,
      session_id: facts.value.session_id,
      gzip_bytes: facts.value.gzip_bytes,
      sha256: facts.value.sha256,
    };
  }

  /** The whole archive, its pieces joined and checked against the checksum its agent sent. */
  async read(attempt: number): Promise<Result<SessionArchiveDownload, SessionArchiveFault>> {
    const stored = await readStored(this.storage, this.where, factsKey(attempt), SessionArchiveFacts);
    if (!stored.ok)
      return {
        ok: false,
        error: { code: "corrupt", message: `attempt ${attempt}'s session archive record is unreadable` },
      };
    if (stored.value === undefined)
      return { ok: false, error: { code: "missing", message: `attempt ${attempt} sent no session archive` } };
    const facts = stored.value;
    const held = await this.storage.list<unknown>({ prefix: `${prefixOf(attempt)}piece:` });
    const pieces: string[] = [];
    for (let index = 0; index < facts.count; index++) {
      const piece = StoredPiece.safeParse(held.get(pieceKey(attempt, index)));
      if (!piece.success)
        return {
          ok: false,
          error: {
            code: "corrupt",
            message: `attempt ${attempt}'s session archive lacks piece ${index + 1} of ${facts.count}`,
          },
        };
      pieces.push(piece.data);
    }
    const data = pieces.join("");
    let sha: string;
    try {
      sha = await sha256OfBase64(data);
    } catch {
      return { ok: false, error: { code: "corrupt", message: `attempt ${attempt}'s session archive is not base64` } };
    }
    if (sha !== facts.sha256)
      return {
        ok: false,
        error: { code: "corrupt", message: `attempt ${attempt}'s session archive does not match its checksum` },
      };
    return { ok: true, value: { ...facts, data } };
  }
}
