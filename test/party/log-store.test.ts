import { describe, expect, it } from "vitest";
import { LogStore } from "../../party/task-room/log-store.ts";
import type { LogLine } from "../../protocol/index.ts";
import { MapStorage } from "./map-storage.ts";

const line = (i: number, width = 10): Omit<LogLine, "seq"> => ({ stream: "stdout", text: `l${i}`.padEnd(width, "."), ts: i, attempt: 1 });

describe("LogStore", () => {
  it("numbers lines from 0 across appends and reads them back in order", async () => {
    const store = await LogStore.load(new MapStorage());
    const first = store.append([line(0), line(1)]);
    const second = store.append([line(2)]);
    await Promise.all([first.written, second.written]);
    expect([...first.lines, ...second.lines].map((l) => l.seq)).toEqual([0, 1, 2]);
    expect((await store.read(0, 10)).map((l) => l.text.slice(0, 2))).toEqual(["l0", "l1", "l2"]);
  });

  it("splits the log into chunks that each stay under the stored-value size bound", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    for (let i = 0; i < 40; i++) await store.append(Array.from({ length: 100 }, (_, j) => line(i * 100 + j, 200))).written;
    const chunks = [...(await storage.list<LogLine[]>({ prefix: "log:c:" })).values()];
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(new TextEncoder().encode(JSON.stringify(chunk)).byteLength).toBeLessThan(128 * 1024);
  });

  it("reads from any seq, across chunk borders, up to the limit", async () => {
    const store = await LogStore.load(new MapStorage());
    await store.append(Array.from({ length: 3000 }, (_, i) => line(i, 40))).written;
    const page = await store.read(1234, 500);
    expect(page.map((l) => l.seq)).toEqual(Array.from({ length: 500 }, (_, i) => 1234 + i));
    expect(await store.read(3000, 10)).toEqual([]);
    expect((await store.read(2990, 100)).length).toBe(10);
  });

  it("survives a reload: stored lines stay, numbering goes on", async () => {
    const storage = new MapStorage();
    const before = await LogStore.load(storage);
    await before.append(Array.from({ length: 700 }, (_, i) => line(i, 100))).written;
    const after = await LogStore.load(storage);
    expect(after.nextSeq).toBe(700);
    const appended = after.append([line(700)]);
    await appended.written;
    expect(appended.lines[0]?.seq).toBe(700);
    expect((await after.read(0, 1000)).map((l) => l.seq)).toEqual(Array.from({ length: 701 }, (_, i) => i));
  });

  it("writes extra entries in the same put as the lines", async () => {
    const storage = new MapStorage();
    const store = await LogStore.load(storage);
    await store.append([line(0)], { "attempt-lines": { attempt: 1, next_line: 1 } }).written;
    expect(storage.puts).toBe(1);
    expect(await storage.get("attempt-lines")).toEqual({ attempt: 1, next_line: 1 });
  });
});
