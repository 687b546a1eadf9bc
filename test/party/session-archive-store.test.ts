// The task room's copy of each attempt's CLI session (docs/sessions.md): pieces under their own keys
// (a stored value is capped at 128 KiB), joined and checked on read; a damaged record is a typed fault.
import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { SessionArchiveStore } from "../../party/task-room/session-archive-store.ts";
import { type AttemptSessionArchive, SESSION_ARCHIVE_PIECE_CHARS } from "../../protocol/index.ts";
import { MapStorage } from "./map-storage.ts";

/** An archive of `size` random bytes (gzip does not shrink them), in pieces as an agent sends them. */
function piecesOf(attempt: number, size: number): AttemptSessionArchive[] {
  const gzip = gzipSync(randomBytes(size));
  const data = gzip.toString("base64");
  const count = Math.ceil(data.length / SESSION_ARCHIVE_PIECE_CHARS);
  const facts = {
    attempt,
    cli: "codex" as const,
    session_id: "S1",
    cwd: "/w/1",
    file: "2026/12/07/rollout-x-S1.jsonl",
    encoding: "gzip-base64" as const,
    bytes: size,
    gzip_bytes: gzip.byteLength,
    sha256: createHash("sha256").update(gzip).digest("hex"),
    count,
  };
  return Array.from({ length: count }, (_, index) => ({
    type: "attempt.session_archive" as const,
    ...facts,
    index,
    data: data.slice(index * SESSION_ARCHIVE_PIECE_CHARS, (index + 1) * SESSION_ARCHIVE_PIECE_CHARS),
  }));
}

describe("the task room's session archives", () => {
  it("keeps each piece under its own key, every stored value under 128 KiB, and reads the whole back", async () => {
    const storage = new MapStorage();
    const store = new SessionArchiveStore(storage);
    const pieces = piecesOf(2, 200_000);
    expect(pieces.length).toBeGreaterThanOrEqual(4);
    // Out of order, one sent twice (a reconnect): the same keys.
    for (const piece of [...pieces].reverse()) await store.put(piece);
    await store.put(pieces[0] as AttemptSessionArchive);
    for (const value of storage.data.values()) expect(JSON.stringify(value).length * 2).toBeLessThan(128 * 1024);
    expect([...storage.data.keys()].filter((key) => key.includes(":piece:"))).toHaveLength(pieces.length);
    const read = await store.read(2);
    if (!read.ok) throw new Error(read.error.message);
    expect(read.value.data).toBe(pieces.map((piece) => piece.data).join(""));
    expect(read.value).toMatchObject({ attempt: 2, cli: "codex", session_id: "S1", cwd: "/w/1", count: pieces.length });
    expect(await store.refOf(2)).toEqual({
      cli: "codex",
      session_id: "S1",
      gzip_bytes: pieces[0]?.gzip_bytes,
      sha256: pieces[0]?.sha256,
    });
  });

  it("says missing for an attempt that sent none, and gives no ref for it", async () => {
    const store = new SessionArchiveStore(new MapStorage());
    expect(await store.read(1)).toEqual({
      ok: false,
      error: { code: "missing", message: "attempt 1 sent no session archive" },
    });
    expect(await store.refOf(1)).toBeUndefined();
  });

  it("says corrupt when a piece is absent", async () => {
    const store = new SessionArchiveStore(new MapStorage());
    const pieces = piecesOf(1, 150_000);
    for (const piece of pieces.slice(1)) await store.put(piece);
    expect(await store.read(1)).toMatchObject({
      ok: false,
      error: { code: "corrupt", message: `attempt 1's session archive lacks piece 1 of ${pieces.length}` },
    });
  });

  it("says corrupt when the joined pieces do not match the checksum", async () => {
    const storage = new MapStorage();
    const store = new SessionArchiveStore(storage);
    const [piece] = piecesOf(1, 1000);
    if (piece === undefined) throw new Error("no piece");
    await store.put({
      ...piece,
      data: `A${piece.data.slice(1)}` === piece.data ? `B${piece.data.slice(1)}` : `A${piece.data.slice(1)}`,
    });
    expect(await store.read(1)).toMatchObject({
      ok: false,
      error: { code: "corrupt", message: "attempt 1's session archive does not match its checksum" },
    });
  });

  it("says corrupt, and gives no ref, when the stored record does not parse", async () => {
    const storage = new MapStorage();
    const store = new SessionArchiveStore(storage);
    const [piece] = piecesOf(1, 1000);
    if (piece === undefined) throw new Error("no piece");
    await store.put(piece);
    const key = [...storage.data.keys()].find((k) => k.endsWith("facts")) ?? "";
    storage.data.set(key, { ...(storage.data.get(key) as object), file: "../../etc/passwd" });
    expect(await store.read(1)).toEqual({
      ok: false,
      error: { code: "corrupt", message: "attempt 1's session archive record is unreadable" },
    });
    expect(await store.refOf(1)).toBeUndefined();
  });
});
