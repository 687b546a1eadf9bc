import { describe, expect, it } from "vitest";
import { LogStore } from "../../party/task-room/log-store.ts";
import type { LogLine } from "../../protocol/index.ts";
import { MapStorage } from "./map-storage.ts";

const line = (i: number, width = 10): Omit<LogLine, "seq"> => ({
  stream: "stdout",
  text: `l${i}`.padEnd(width, "."),
  ts: i,
  attempt: 1,
});
const lines = (from: number, count: number, width = 10): Array<Omit<LogLine, "seq">> =>
  Array.from({ length: count }, (_, i) => line(from + i, width));
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
const seqs = (read: readonly LogLine[]): number[] => read.map((l) => l.seq);
const logKeys = (write: Record<string, unknown>): string[] =>
  Object.keys(write).filter((key) => key.startsWith("log:"));
const utf8Bytes = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value)).byteLength;

/** Batches of mixed sizes (1 line up to several stored keys' worth), so reads cross every kind of border. */
async function mixedLog(storage: MapStorage): Promise<{ store: LogStore; total: number }> {
  const store = await LogStore.load(storage);
  const sizes = [1, 3, 1, 250, 7, 1, 1, 600, 2, 40];
  let total = 0;
  for (const size of sizes) {
    await store.append(lines(total, size, size === 600 ? 300 : 20)).written;
    total += size;
  }
  return { store, total };
}

/** The chunked layout an earlier version stored: sealed chunks, an open chunk, and a head. */
function legacyLog(storage: MapStorage, total: number, chunkLines: number): void {
  const numbered = lines(0, total).map((l, seq): LogLine => ({ ...l, seq }));
  for (let first = 0; first < total; first += chunkLines) {
    storage.data.set(`log:c:${String(first).padStart(12, "0")}`, numbered.slice(first, first + chunkLines));
  }
  const openFirst = Math.floor((total - 1) / chunkLines) * chunkLines;
  storage.data.set("log:head", { next_seq: total, open_first_seq: openFirst });
}

describe("LogStore", () => {
  it("numbers lines from 0 across appends and reads them back in order", async () => {
    const store = await LogStore.load(new MapStorage());
    const first = store.append([line(0), line(1)]);
    const second = store.append([line(2)]);
    await Promise.all([first.written, second.written]);
    expect(seqs([...first.lines, ...second.lines])).toEqual([0, 1, 2]);
    expect((await store.read(0, 10)).map((l) => l.text.slice(0, 2))).toEqual(["l0", "l1", "l2"]);
  });

  it("writes each batch as its own new keys only: no head, no earlier lines rewritten", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    for (let i = 0; i < 500; i++) await store.append([line(i)], { "attempt-lines": { 1: i + 1 } }).written;
    expect(storage.writes).toHaveLength(500);
    const seen = new Set<string>();
    storage.writes.forEach((write, i) => {
      // One line batch: one log key, named by its seq, holding exactly that line, beside the `also` entry.
      expect(Object.keys(write).sort()).toEqual(["attempt-lines", `log:b:${String(i).padStart(12, "0")}`]);
      expect(seqs(write[`log:b:${String(i).padStart(12, "0")}`] as LogLine[])).toEqual([i]);
      for (const key of logKeys(write)) {
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
    });
    // Bytes written grow with the lines, not with their square: the last put is as small as the first.
    expect(utf8Bytes(storage.writes.at(-1))).toBeLessThan(2 * utf8Bytes(storage.writes[0]));
  });

  it("splits an oversized batch into several keys, each well under the stored-value bound, in one put", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    await store.append(lines(0, 5)).written;
    // 512 lines of 4,096 characters: the most a batch can hold, ~2 M characters.
    const big = store.append(Array.from({ length: 512 }, (_, i) => ({ ...line(5 + i), text: "é".repeat(4096) })));
    await big.written;
    expect(seqs(big.lines)).toEqual(range(5, 512));
    const writes = storage.writes.slice(1);
    const pieces = writes.flatMap((write) => logKeys(write).map((key) => [key, write[key] as LogLine[]] as const));
    expect(pieces.length).toBeGreaterThan(100);
    let next = 5;
    for (const [key, piece] of pieces) {
      expect(key).toBe(`log:b:${String(next).padStart(12, "0")}`);
      expect(seqs(piece)).toEqual(range(next, piece.length));
      expect(utf8Bytes(piece)).toBeLessThan(64 * 1024);
      next += piece.length;
    }
    expect(next).toBe(517);
    // Split only where one put may not carry more keys; those calls are issued together (coalesced).
    for (const write of writes) expect(Object.keys(write).length).toBeLessThanOrEqual(128);
  });

  it("replays exactly from any seq, across batch and key borders, live and after a reload", async () => {
    const storage = new MapStorage();
    const { store, total } = await mixedLog(storage);
    const reloaded = await LogStore.load(storage);
    for (const reader of [store, reloaded]) {
      for (let since = 0; since <= total; since += 7) {
        for (const limit of [1, 5, 260, 1000]) {
          expect(seqs(await reader.read(since, limit))).toEqual(range(since, Math.min(limit, total - since)));
        }
      }
    }
    expect(await reloaded.read(total, 10)).toEqual([]);
    expect(await reloaded.read(0, 0)).toEqual([]);
    expect((await reloaded.read(0, total)).map((l) => l.text)).toEqual((await store.read(0, total)).map((l) => l.text));
  });

  it("serves tailing reads from memory and keeps only a bounded tail there", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    for (let i = 0; i < 100; i++) store.append(lines(i * 100, 100));
    const before = storage.lists;
    expect(seqs(await store.read(9_000, 1000))).toEqual(range(9_000, 1000));
    expect(storage.lists).toBe(before);
    // Lines far behind the end are no longer held: reading them goes to storage.
    expect(seqs(await store.read(10, 1000))).toEqual(range(10, 1000));
    expect(storage.lists).toBeGreaterThan(before);
  });

  it("stays exact when appends during a read push lines out of memory", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    store.append(lines(0, 3000));
    const reading = store.read(500, 1000);
    for (let i = 0; i < 10; i++) store.append(lines(3000 + i * 500, 500));
    expect(seqs(await reading)).toEqual(range(500, 1000));
    expect(seqs(await store.read(1900, 200))).toEqual(range(1900, 200));
  });

  it("resumes numbering after a restart, from what storage holds", async () => {
    const storage = new MapStorage();
    const { total } = await mixedLog(storage);
    const after = await LogStore.load(storage);
    expect(after.nextSeq).toBe(total);
    const appended = after.append([line(total)]);
    await appended.written;
    expect(seqs(appended.lines)).toEqual([total]);
    expect(seqs(await (await LogStore.load(storage)).read(0, 2000))).toEqual(range(0, total + 1));
  });

  it("leaves no hole and no repeated seq when the process dies before a batch is stored", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    await store.append(lines(0, 10)).written;
    // The crash: the next batch is numbered (and maybe shown) but its put never happens.
    const lost = new MapStorage();
    for (const [key, value] of storage.data) lost.data.set(key, value);
    store.append(lines(10, 5));
    const restarted = await LogStore.load(lost);
    expect(restarted.nextSeq).toBe(10);
    await restarted.append(lines(10, 5)).written;
    expect(seqs(await (await LogStore.load(lost)).read(0, 100))).toEqual(range(0, 15));
  });

  it("reads a log stored in the earlier chunked layout and appends after it", async () => {
    const storage = new MapStorage();
    legacyLog(storage, 700, 256);
    const store = await LogStore.load(storage);
    expect(store.nextSeq).toBe(700);
    expect(seqs(await store.read(250, 20))).toEqual(range(250, 20));
    const appended = store.append(lines(700, 50));
    await appended.written;
    expect(seqs(appended.lines)).toEqual(range(700, 50));
    // The old keys stay as they were; the new lines go to keys of their own.
    expect(storage.writes.flatMap(logKeys)).toEqual(["log:b:000000000700"]);
    const reloaded = await LogStore.load(storage);
    expect(reloaded.nextSeq).toBe(750);
    for (const since of [0, 255, 256, 690, 699, 700, 720]) {
      expect(seqs(await reloaded.read(since, 1000))).toEqual(range(since, 750 - since));
    }
    expect((await reloaded.read(698, 4)).map((l) => l.text.slice(0, 4))).toEqual(["l698", "l699", "l700", "l701"]);
  });

  it("writes extra entries in the same put as the lines", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    await store.append([line(0)], { "attempt-lines": { attempt: 1, next_line: 1 } }).written;
    expect(storage.puts).toBe(1);
    expect(await storage.get("attempt-lines")).toEqual({ attempt: 1, next_line: 1 });
  });

  it("stores `also` alone when there are no lines, and writes nothing for an empty append", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    await store.append([], { task: { id: "T" } }).written;
    await store.append([]).written;
    expect(storage.writes).toEqual([{ task: { id: "T" } }]);
    expect(store.nextSeq).toBe(0);
  });
});
