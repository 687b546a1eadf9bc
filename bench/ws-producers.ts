// The baseline's producers, in a process of their own as the agents are: N streams, each a gated
// child whose stdout goes through the agent's own line splitting and batching to a plain ws relay
// room. Prints "ready" once every socket is open and every child waits at the gate; exits when all
// streams are sent. Usage: node --import tsx bench/ws-producers.ts '<json ProducersConfig>'.
import { spawn } from "node:child_process";
import WebSocket from "ws";
import { z } from "zod";
import { LineSplitter } from "../agents/runtime/line-splitter.ts";
import { MAX_BUFFERED_BYTES } from "../agents/runtime/mesh-socket.ts";
import { OutputBatcher } from "../agents/runtime/output-batcher.ts";
import { parseJson } from "../protocol/index.ts";

/** What ws-baseline.ts passes as JSON in argv: the relay's URL, how many streams, and each stream's child. */
const ProducersConfig = z.object({
  url: z.string().min(1),
  streams: z.number().int().positive(),
  command: z.array(z.string()).min(1),
});
export type ProducersConfig = z.infer<typeof ProducersConfig>;

/** As the agent: past this many unsent lines it stops reading the child's pipe. */
const PAUSE_BACKLOG = 20_000;

async function produce(url: string, command: readonly string[]): Promise<() => Promise<void>> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const batcher = new OutputBatcher({
    sink: (batch) => {
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return false;
      socket.send(JSON.stringify({ type: "log.batch", attempt: 1, ...batch }));
      // A plain relay stores nothing: a batch counts as acknowledged once it is handed over.
      queueMicrotask(() => batcher.acknowledge(batch.first_line + batch.lines.length));
      return true;
    },
  });
  const [program = "/bin/false", ...args] = command;
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "ignore"] });
  let paused = false;
  const splitter = new LineSplitter((text) => {
    batcher.add({ stream: "stdout", text, ts: Date.now() });
    if (paused || batcher.backlog <= PAUSE_BACKLOG) return;
    paused = true;
    child.stdout.pause();
    const resume = setInterval(() => {
      if (batcher.backlog > PAUSE_BACKLOG / 2) return;
      clearInterval(resume);
      paused = false;
      child.stdout.resume();
    }, 5);
  });
  child.stdout.on("data", (chunk: Buffer) => splitter.push(chunk));
  const ended = new Promise<void>((resolve) => child.stdout.on("end", resolve));
  return async () => {
    await ended;
    splitter.end();
    while (!batcher.flush() || socket.bufferedAmount > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    socket.close();
  };
}

const parsed = parseJson(ProducersConfig, process.argv[2] ?? "{}", "the producers' settings");
if (!parsed.ok) {
  console.error(`ws-producers: ${parsed.error.code}: ${parsed.error.message}`);
  process.exit(2);
}
const config = parsed.value;
const finishes = await Promise.all(
  Array.from({ length: config.streams }, (_, i) => produce(`${config.url}/stream-${i}`, config.command)),
);
console.log("ready");
await Promise.all(finishes.map((finish) => finish()));
