// The plain `ws` baseline of the throughput rows, measured in the same run as the mesh: the same
// gated children, the same splitting and batching, through a relay that only forwards frames.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { stopGroup } from "../launcher/dev-server.ts";
import { groupRssMiB } from "./bench-stats.ts";
import { LineTally, type StreamsResult, spreadNote, streamsOutcome } from "./line-tally.ts";
import type { StartGate } from "./start-gate.ts";
import { stoppedAfter } from "./stopped-after.ts";
import { WsStreamViewer } from "./stream-viewers.ts";
import type { ProducersConfig } from "./ws-producers.ts";

const STALL_MS = 15_000;

/** A detached child (its own process group), stopped with its whole group. */
function detached(args: string[]): { process: ChildProcess; stop(): Promise<void> } {
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "pipe", "inherit"] });
  return { process: child, stop: () => stopGroup(child) };
}

/** The first thing a child prints (its port, or "ready"); an exit before it is an error. */
async function firstLine(child: ChildProcess): Promise<string> {
  if (child.stdout === null) throw new Error("the child has no stdout pipe");
  const exited = once(child, "exit").then(([code]) =>
    Promise.reject(new Error(`the child exited with ${String(code)} before it was ready`)),
  );
  const [chunk] = (await Promise.race([once(child.stdout, "data"), exited])) as [Buffer];
  return chunk.toString().trim();
}

export type BaselineResult = StreamsResult & { serverRss: number };

/** `streams` streams of the gate's numbered lines file, each to its own viewer, through a plain ws relay. */
export async function wsBaseline(
  gate: StartGate,
  streams: number,
  linesPerStream: number,
  linesFile: string,
): Promise<BaselineResult> {
  return stoppedAfter(detached([join(import.meta.dirname, "ws-broadcast-server.mjs")]), async (server) => {
    const url = `ws://127.0.0.1:${Number(await firstLine(server.process))}`;
    const tallies = Array.from({ length: streams }, () => new LineTally(linesPerStream));
    const viewers = await Promise.all(
      tallies.map((tally, i) => WsStreamViewer.open(`${url}/stream-${i}`, (text, at) => tally.add(text, at))),
    );
    try {
      const config: ProducersConfig = { url, streams, command: gate.command(["cat", linesFile]) };
      return await stoppedAfter(
        detached(["--import", "tsx", join(import.meta.dirname, "ws-producers.ts"), JSON.stringify(config)]),
        async (producers) => {
          const ready = await firstLine(producers.process);
          if (ready !== "ready") throw new Error(`the ws producers said '${ready}'`);
          await gate.childrenWaiting(streams);
          const openedAt = gate.open(streams);
          const outcome = await streamsOutcome(tallies, openedAt, STALL_MS);
          console.error(spreadNote(`plain ws, ${streams} stream(s)`, outcome));
          return { ...outcome, serverRss: await groupRssMiB(server.process.pid ?? 0) };
        },
      );
    } finally {
      for (const viewer of viewers) viewer.close();
    }
  });
}
