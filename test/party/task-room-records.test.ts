import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AttemptHolders } from "../../party/task-room/attempt-holders.ts";
import { DiffStore } from "../../party/task-room/diff-store.ts";
import { LogStore } from "../../party/task-room/log-store.ts";
import { SessionArchiveStore } from "../../party/task-room/session-archive-store.ts";
import type { LogLine } from "../../protocol/index.ts";
import { StoredAttemptLines } from "../../protocol/task-records.ts";
import { MapStorage } from "./map-storage.ts";

// The task room reads its storage with schemas (docs/rooms.md "Stored records"): a corrupt record is
// logged and read around, never a crash and never a value of the wrong shape.

const line = (i: number): Omit<LogLine, "seq"> => ({ stream: "stdout", text: `line ${i}`, ts: i, attempt: 1 });
const lines = (from: number, count: number) => Array.from({ length: count }, (_, i) => line(from + i));
const seqs = (read: readonly LogLine[]): number[] => read.map((l) => l.seq);
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
const batchKey = (seq: number): string => `log:b:${String(seq).padStart(12, "0")}`;

let logged: string[] = [];
beforeEach(() => {
  logged = [];
  vi.spyOn(console, "error").mockImplementation((message: unknown) => void logged.push(String(message)));
});
afterEach(() => vi.restoreAllMocks());

describe("the task log over corrupt pieces", () => {
  it("numbers on past a corrupt last piece, by the lines it held, and logs it", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage, "task T");
    await store.append(lines(0, 3)).written;
    await store.append(lines(3, 4)).written;
    storage.data.set(batchKey(3), [{ seq: "three" }, {}, {}, {}]);
    const reloaded = await LogStore.load(storage, "task T");
    expect(reloaded.nextSeq).toBe(7);
    expect(logged.some((m) => m.startsWith(`task T: stored ${batchKey(3)} is corrupt`))).toBe(true);
  });

  it("skips a corrupt piece in a read and goes on past it", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    for (let first = 0; first < 30; first += 5) await store.append(lines(first, 5)).written;
    storage.data.set(batchKey(10), "not lines");
    storage.data.set(batchKey(0), [{ ...line(0), seq: -1 }]);
    // A restart, so the reads come from storage rather than the lines held in memory.
    const reloaded = await LogStore.load(storage);
    expect(seqs(await reloaded.read(0, 100))).toEqual([...range(5, 5), ...range(15, 15)]);
    expect(seqs(await reloaded.read(10, 3))).toEqual(range(15, 3));
    expect(logged.filter((m) => m.includes("is corrupt"))).not.toHaveLength(0);
  });

  it("reads a log whose older head is corrupt from its batches alone", async () => {
    const storage = new MapStorage();
    storage.data.set("log:head", { next_seq: "many" });
    const store = await LogStore.load(storage);
    expect(store.nextSeq).toBe(0);
    expect(logged.some((m) => m.includes("stored log:head is corrupt"))).toBe(true);
  });
});

describe("stored diffs and line counts", () => {
  it("fails a diff read on a corrupt piece with a typed corrupt fault, and reads a sound one whole", async () => {
    const storage = new MapStorage();
    const diffs = new DiffStore(storage, "task T");
    await diffs.put(1, 0, "diff --git a/x b/x\n");
    await diffs.put(1, 1, "+y\n");
    expect(await diffs.read(1)).toEqual({ ok: true, value: "diff --git a/x b/x\n+y\n" });
    expect(await diffs.read(2)).toEqual({ ok: true, value: "" });
    storage.data.set("diff:001:0001", { text: "+y" });
    expect(await diffs.read(1)).toMatchObject({ ok: false, error: { code: "corrupt", key: "diff:001:0001" } });
    expect(logged.some((m) => m.startsWith("task T: stored diff:001:0001 is corrupt"))).toBe(true);
  });

  it("reads line counts in both stored shapes, and refuses any other", () => {
    expect(StoredAttemptLines.parse({ "1": 40, "2": 3 })).toEqual({ "1": 40, "2": 3 });
    expect(StoredAttemptLines.parse({ attempt: 2, next_line: 17 })).toEqual({ "2": 17 });
    expect(StoredAttemptLines.safeParse({ "1": -1 }).success).toBe(false);
    expect(StoredAttemptLines.safeParse("40").success).toBe(false);
    const holders = AttemptHolders.fromStored(StoredAttemptLines.parse({ attempt: 2, next_line: 17 }));
    expect([holders.linesOf(1), holders.linesOf(2)]).toEqual([0, 17]);
  });

  it("offers no session archive whose record is corrupt, and logs it", async () => {
    const storage = new MapStorage();
    storage.data.set("session:001:facts", { cli: 7 });
    const archives = new SessionArchiveStore(storage, "task T");
    expect(await archives.refOf(1)).toBeUndefined();
    expect(await archives.read(1)).toMatchObject({ ok: false, error: { code: "corrupt" } });
    expect(logged.some((m) => m.startsWith("task T: stored session:001:facts is corrupt"))).toBe(true);
  });
});
