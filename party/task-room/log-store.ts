import type { LogLine } from "../../protocol/index.ts";

/** The part of Durable Object storage the log needs (so tests can hand it a Map-backed store). */
export interface LogStorage {
  get<T>(key: string): Promise<T | undefined>;
  put(entries: Record<string, unknown>): Promise<void>;
  list<T>(options: { prefix: string; start?: string; end?: string; limit?: number; reverse?: boolean }): Promise<Map<string, T>>;
}

/**
 * Chunk size bounds. One stored value is size-limited (128 KiB on the key-value backend), and a
 * chunk is rewritten on every append until sealed: 32k characters keeps both in check.
 */
const CHUNK_MAX_LINES = 256;
const CHUNK_MAX_CHARS = 32_000;

const HEAD_KEY = "log:head";
const CHUNK_PREFIX = "log:c:";
const chunkKey = (firstSeq: number): string => `${CHUNK_PREFIX}${String(firstSeq).padStart(12, "0")}`;

type LogHead = { next_seq: number; open_first_seq: number };

/**
 * A task's output log in room storage, chunked. Lines are numbered on append (`seq` from 0), the
 * open chunk lives in memory and is written with the head in one put, so a crash never leaves a
 * head that points past stored lines. Reads find chunks by their first seq.
 */
export class LogStore {
  private head: LogHead = { next_seq: 0, open_first_seq: 0 };
  private open: LogLine[] = [];
  private openChars = 0;

  private constructor(private readonly storage: LogStorage) {}

  static async load(storage: LogStorage): Promise<LogStore> {
    const store = new LogStore(storage);
    const head = await storage.get<LogHead>(HEAD_KEY);
    if (head !== undefined) {
      store.head = head;
      store.open = (await storage.get<LogLine[]>(chunkKey(head.open_first_seq))) ?? [];
      store.openChars = store.open.reduce((sum, line) => sum + line.text.length, 0);
    }
    return store;
  }

  /** The seq the next line will get: also the number of lines stored. */
  get nextSeq(): number {
    return this.head.next_seq;
  }

  /**
   * Numbers and stores lines, with `also` written in the same atomic put. Numbering happens
   * synchronously, so callers can publish the lines before the write settles and concurrent
   * appends keep their order.
   */
  append(lines: ReadonlyArray<Omit<LogLine, "seq">>, also: Record<string, unknown> = {}): { lines: LogLine[]; written: Promise<void> } {
    const numbered: LogLine[] = [];
    const writes: Record<string, unknown> = { ...also };
    for (const line of lines) {
      if (this.open.length >= CHUNK_MAX_LINES || this.openChars + line.text.length > CHUNK_MAX_CHARS) {
        writes[chunkKey(this.head.open_first_seq)] = this.open;
        this.head = { next_seq: this.head.next_seq, open_first_seq: this.head.next_seq };
        this.open = [];
        this.openChars = 0;
      }
      const stored: LogLine = { ...line, seq: this.head.next_seq };
      this.open.push(stored);
      this.openChars += line.text.length;
      this.head = { ...this.head, next_seq: this.head.next_seq + 1 };
      numbered.push(stored);
    }
    writes[chunkKey(this.head.open_first_seq)] = [...this.open];
    writes[HEAD_KEY] = this.head;
    return { lines: numbered, written: this.storage.put(writes) };
  }

  /** Lines with `seq >= sinceSeq`, in order, at most `limit`. */
  async read(sinceSeq: number, limit: number): Promise<LogLine[]> {
    const out: LogLine[] = [];
    if (sinceSeq >= this.head.next_seq || limit <= 0) return out;
    if (sinceSeq >= this.head.open_first_seq) return this.open.filter((line) => line.seq >= sinceSeq).slice(0, limit);
    // The chunk holding `sinceSeq` is the last one whose first seq is not above it.
    const before = await this.storage.list<LogLine[]>({ prefix: CHUNK_PREFIX, end: chunkKey(sinceSeq + 1), reverse: true, limit: 1 });
    const startKey = [...before.keys()][0] ?? chunkKey(0);
    let cursor = startKey;
    while (out.length < limit) {
      const page = await this.storage.list<LogLine[]>({ prefix: CHUNK_PREFIX, start: cursor, limit: 8 });
      if (page.size === 0) break;
      let last = cursor;
      for (const [key, chunk] of page) {
        last = key;
        const lines = key === chunkKey(this.head.open_first_seq) ? this.open : chunk;
        for (const line of lines) {
          if (line.seq >= sinceSeq && out.length < limit) out.push(line);
        }
        if (out.length >= limit) break;
      }
      if (page.size < 8) break;
      cursor = `${last}\u0000`;
    }
    return out;
  }
}
