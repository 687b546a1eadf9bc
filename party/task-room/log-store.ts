import type { LogLine } from "../../protocol/index.ts";
import { LegacyLogHead, StoredLogPiece } from "../../protocol/task-records.ts";
import { parseStored, readStored } from "../stored-records.ts";

/** The part of Durable Object storage the log needs (so tests can hand it a Map-backed store). */
export interface LogStorage {
  get<T>(key: string): Promise<T | undefined>;
  put(entries: Record<string, unknown>): Promise<void>;
  list<T>(options: {
    prefix: string;
    start?: string;
    end?: string;
    limit?: number;
    reverse?: boolean;
  }): Promise<Map<string, T>>;
}

/**
 * Bound on one stored piece, in characters of text plus `LINE_FIELDS_CHARS` per line for the other
 * fields. A stored value is capped at 128 KiB on the key-value backend (protocol/limits.ts);
 * 16k characters is at most 32 KiB as UTF-16 (how V8 serialises strings) and 48 KiB as UTF-8 JSON.
 */
const PIECE_MAX_CHARS = 16_000;
const LINE_FIELDS_CHARS = 64;

/** Durable Object storage takes at most 128 keys in one put call. */
const MAX_KEYS_PER_PUT = 128;

/** Keys fetched per list call when reading from storage; every key holds at least one line. */
const READ_PAGE_KEYS = 64;

/**
 * The newest lines kept in memory so tailing reads (viewers following live, the last 2,000 lines a
 * retry's prompt quotes) never touch storage; bounded in lines and characters (~2 MB as UTF-16).
 */
const TAIL_MAX_LINES = 2048;
const TAIL_MAX_CHARS = 1_000_000;

/** One key per appended batch (several when it is over `PIECE_MAX_CHARS`), named by its first seq. */
const BATCH_PREFIX = "log:b:";
/** The chunked layout of earlier versions (a head plus rewritten chunks): read, never written. */
const LEGACY_HEAD_KEY = "log:head";
const LEGACY_CHUNK_PREFIX = "log:c:";

/** Zero-padded so keys sort by seq. */
const keyOf = (prefix: string, firstSeq: number): string => `${prefix}${String(firstSeq).padStart(12, "0")}`;

/**
 * A task's output log in room storage, append-only. Lines are numbered on append (`seq` from 0) and
 * each batch is written as its own new keys in one put, with the caller's `also` entries: a batch
 * costs what it holds, never a rewrite of earlier lines. There is no head key: on load the next seq
 * is the last stored line's plus one, so a crash between appends leaves neither a hole nor a seq
 * handed out twice. (Storage commits writes in the order they were issued and a failed write resets
 * the object, so a later batch never lands without an earlier one.)
 */
export class LogStore {
  private next: number;
  private readonly recent: RecentLines;

  private constructor(
    private readonly storage: LogStorage,
    /** Who reads, for the log line a corrupt piece gets. */
    private readonly where: string,
    /** Lines below this seq are in the legacy chunk layout. */
    private readonly legacyEnd: number,
    next: number,
  ) {
    this.next = next;
    this.recent = new RecentLines(next);
  }

  /** `where` names the reader (the room) in the log line a corrupt record gets (docs/rooms.md "Stored records"). */
  static async load(storage: LogStorage, where = "task log"): Promise<LogStore> {
    const [legacyHead, last] = await Promise.all([
      readStored(storage, where, LEGACY_HEAD_KEY, LegacyLogHead),
      storage.list<unknown>({ prefix: BATCH_PREFIX, reverse: true, limit: 1 }),
    ]);
    // A corrupt head reads as no older layout: those lines go unread, and none of the new keys collides with them.
    const legacyEnd = legacyHead.ok ? (legacyHead.value?.next_seq ?? 0) : 0;
    return new LogStore(storage, where, legacyEnd, nextAfter(where, [...last][0], legacyEnd));
  }

  /** The seq the next line will get: also the number of lines stored. */
  get nextSeq(): number {
    return this.next;
  }

  /**
   * Numbers and stores lines, with `also` written in the same atomic put. Numbering happens
   * synchronously, so callers can publish the lines before the write settles and concurrent
   * appends keep their order. `written` settles when the put does.
   */
  append(
    lines: ReadonlyArray<Omit<LogLine, "seq">>,
    also: Record<string, unknown> = {},
  ): { lines: LogLine[]; written: Promise<void> } {
    const numbered = lines.map((line, i): LogLine => ({ ...line, seq: this.next + i }));
    this.next += numbered.length;
    for (const line of numbered) this.recent.push(line);
    // The lines first and `also` last, so no put ever records counts ahead of the lines they count.
    const entries: Array<[string, unknown]> = piecesOf(numbered).map((piece) => [
      keyOf(BATCH_PREFIX, piece[0]?.seq ?? 0),
      piece,
    ]);
    entries.push(...Object.entries(also));
    if (entries.length === 0) return { lines: numbered, written: Promise.resolve() };
    // Puts issued with no await between them are committed as one atomic write (Cloudflare's
    // "automatic write coalescing"), so a batch over the per-put key limit still lands whole.
    const puts: Array<Promise<void>> = [];
    for (let i = 0; i < entries.length; i += MAX_KEYS_PER_PUT) {
      puts.push(this.storage.put(Object.fromEntries(entries.slice(i, i + MAX_KEYS_PER_PUT))));
    }
    return { lines: numbered, written: Promise.all(puts).then(() => undefined) };
  }

  /** Lines with `seq >= sinceSeq`, in order, at most `limit`. */
  async read(sinceSeq: number, limit: number): Promise<LogLine[]> {
    const out: LogLine[] = [];
    let at = Math.max(0, sinceSeq);
    while (out.length < limit && at < this.next) {
      // Checked on every turn: appends during an await can push lines out of memory into storage only.
      if (at >= this.recent.firstSeq) {
        out.push(...this.recent.read(at, limit - out.length));
        break;
      }
      const legacy = at < this.legacyEnd;
      const to = legacy ? Math.min(this.legacyEnd, this.recent.firstSeq) : this.recent.firstSeq;
      const stored = await readPieces(
        this.storage,
        this.where,
        legacy ? LEGACY_CHUNK_PREFIX : BATCH_PREFIX,
        at,
        to,
        limit - out.length,
      );
      const last = stored.at(-1);
      // Nothing readable below `to` (a corrupt piece, logged): the read goes on past the hole.
      at = last === undefined ? to : last.seq + 1;
      out.push(...stored);
    }
    return out;
  }
}

/** Splits a batch into pieces that each stay under `PIECE_MAX_CHARS` (a longer single line goes alone). */
function piecesOf(lines: readonly LogLine[]): LogLine[][] {
  const pieces: LogLine[][] = [];
  let piece: LogLine[] = [];
  let chars = 0;
  for (const line of lines) {
    const weight = line.text.length + LINE_FIELDS_CHARS;
    if (piece.length > 0 && chars + weight > PIECE_MAX_CHARS) {
      pieces.push(piece);
      piece = [];
      chars = 0;
    }
    piece.push(line);
    chars += weight;
  }
  if (piece.length > 0) pieces.push(piece);
  return pieces;
}

/**
 * The seq after the last stored piece: after its last line; for a corrupt piece (logged), after as
 * many lines as it holds from the first seq its key names, so no seq is handed out twice.
 */
function nextAfter(where: string, last: [string, unknown] | undefined, legacyEnd: number): number {
  if (last === undefined) return legacyEnd;
  const [key, value] = last;
  const piece = parseStored(where, key, value, StoredLogPiece);
  if (!piece.ok)
    return Math.max(
      legacyEnd,
      Number(key.slice(BATCH_PREFIX.length)) + (Array.isArray(value) ? Math.max(1, value.length) : 1),
    );
  const lastLine = piece.value.at(-1);
  return lastLine === undefined ? legacyEnd : lastLine.seq + 1;
}

/**
 * Stored lines with `from <= seq < to`, at most `limit`, from keys under `prefix` that each hold
 * consecutive lines and are named by their first seq (the legacy chunks and the batches alike).
 * A corrupt piece is skipped (and logged).
 */
async function readPieces(
  storage: LogStorage,
  where: string,
  prefix: string,
  from: number,
  to: number,
  limit: number,
): Promise<LogLine[]> {
  const out: LogLine[] = [];
  const take = (lines: readonly LogLine[]): void => {
    for (const line of lines) {
      if (line.seq >= to || out.length >= limit) return;
      if (line.seq >= from) out.push(line);
    }
  };
  // The key holding `from` is the last one whose first seq is not above it.
  const holding = await storage.list<unknown>({ prefix, end: keyOf(prefix, from + 1), reverse: true, limit: 1 });
  let cursor = keyOf(prefix, from);
  for (const [key, value] of holding) {
    const piece = parseStored(where, key, value, StoredLogPiece);
    if (piece.ok) take(piece.value);
    cursor = `${key}\u0000`;
  }
  const end = keyOf(prefix, to);
  while (out.length < limit) {
    const pageKeys = Math.min(READ_PAGE_KEYS, limit - out.length);
    const page = await storage.list<unknown>({ prefix, start: cursor, end, limit: pageKeys });
    for (const [key, value] of page) {
      const piece = parseStored(where, key, value, StoredLogPiece);
      if (piece.ok) take(piece.value);
      cursor = `${key}\u0000`;
    }
    if (page.size < pageKeys) break;
  }
  return out;
}

/**
 * The newest lines, consecutive up to the log's end, bounded by `TAIL_MAX_LINES` and
 * `TAIL_MAX_CHARS`. Dropping from the front moves an index and compacts now and then, so a push
 * costs O(1) amortised (no `Array.shift` per line).
 */
class RecentLines {
  private lines: LogLine[] = [];
  private start = 0;
  private chars = 0;

  constructor(private first: number) {}

  /** The oldest seq held; equal to the log's next seq when nothing is held. */
  get firstSeq(): number {
    return this.first;
  }

  push(line: LogLine): void {
    this.lines.push(line);
    this.chars += line.text.length;
    while (this.lines.length - this.start > TAIL_MAX_LINES || this.chars > TAIL_MAX_CHARS) {
      const dropped = this.lines[this.start];
      if (dropped === undefined) break;
      this.chars -= dropped.text.length;
      this.start++;
      this.first++;
    }
    // Compact once the dropped prefix is as long as what is held: memory stays within twice the
    // bound, and each compaction copies no more lines than were dropped since the last one.
    if (this.start > 0 && this.start * 2 >= this.lines.length) {
      this.lines = this.lines.slice(this.start);
      this.start = 0;
    }
  }

  /** Held lines from `sinceSeq` (not below `firstSeq`), at most `limit`. */
  read(sinceSeq: number, limit: number): LogLine[] {
    const from = this.start + (sinceSeq - this.first);
    return this.lines.slice(from, from + limit);
  }
}
