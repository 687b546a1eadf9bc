import { describe, expect, it } from "vitest";
import { LogStore } from "../../party/task-room/log-store.ts";
import { type FeedConnection, ViewerFeed } from "../../party/task-room/viewer-feed.ts";
import type { LogLine } from "../../protocol/index.ts";
import { MapStorage } from "./map-storage.ts";

const line = (i: number): Omit<LogLine, "seq"> => ({ stream: "stdout", text: `line ${i}`, ts: i, attempt: 1 });

function recorder(id: string): FeedConnection & { seqs: number[] } {
  const seqs: number[] = [];
  return {
    id,
    seqs,
    send: (frame: string) => seqs.push(...(JSON.parse(frame) as { lines: LogLine[] }).lines.map((l) => l.seq)),
  };
}

describe("ViewerFeed", () => {
  it("replays stored lines, then follows live, with no line twice or missing while lines arrive during the replay", async () => {
    const store = await LogStore.load(new MapStorage());
    await store.append(Array.from({ length: 2500 }, (_, i) => line(i))).written;
    const feed = new ViewerFeed(store);
    const viewer = recorder("v1");
    const subscribing = feed.subscribe(viewer, 0);
    // Lines published while the replay awaits storage must arrive once, after the replayed ones.
    for (let i = 2500; i < 2600; i += 10) {
      const appended = store.append(Array.from({ length: 10 }, (_, j) => line(i + j)));
      feed.publish(appended.lines);
      await Promise.resolve();
    }
    await subscribing;
    const tail = store.append([line(2600)]);
    feed.publish(tail.lines);
    expect(viewer.seqs).toEqual(Array.from({ length: 2601 }, (_, i) => i));
  });

  it("starts a subscriber at since_seq", async () => {
    const store = await LogStore.load(new MapStorage());
    await store.append(Array.from({ length: 50 }, (_, i) => line(i))).written;
    const feed = new ViewerFeed(store);
    const viewer = recorder("v1");
    await feed.subscribe(viewer, 45);
    feed.publish(store.append([line(50)]).lines);
    expect(viewer.seqs).toEqual([45, 46, 47, 48, 49, 50]);
  });

  it("stops sending to a dropped subscriber", async () => {
    const store = await LogStore.load(new MapStorage());
    const feed = new ViewerFeed(store);
    const viewer = recorder("v1");
    await feed.subscribe(viewer, 0);
    feed.drop("v1");
    feed.publish(store.append([line(0)]).lines);
    expect(viewer.seqs).toEqual([]);
  });
});
