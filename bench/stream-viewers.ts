// Viewers for the throughput rows: one socket per stream, counting its numbered lines. The mesh
// viewer and the plain ws viewer do the same work per frame (one parse with the same schema, a pass
// over the lines), so neither side of the ratio is slowed by its viewer more than the other.
import WebSocket from "ws";
import { z } from "zod";
import { Attempt, OutputLine, parseJson } from "../protocol/index.ts";
/** Called for each stdout line with the performance.now() its frame arrived at. */
export type OnLine = (text: string, at: number) => void;

/**
 * What both viewers read of a frame, with the protocol's own field schemas: its type, each line's
 * stream and text, and a snapshot's attempt statuses. One schema for both sides: the full frame
 * schemas differ in cost per line (a viewer's lines carry more fields than a producer's batch).
 */
const ViewerFrame = z.object({
  type: z.string(),
  lines: z.array(OutputLine.pick({ stream: true, text: true })).optional(),
  task: z.object({ attempts: z.array(Attempt.pick({ status: true })) }).optional(),
});

/** Listens before the socket opens: a room's first frame can arrive in the same read as the upgrade. */
function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("unexpected-response", (_request, response) =>
      reject(new Error(`upgrade refused: ${response.statusCode}`)),
    );
    // Kept after the open: a later reset (a dev server reloading) must not throw; the row's stall check reports it.
    socket.on("error", reject);
  });
}

/** A task room viewer (orchestrator token) that hands on stdout lines and watches the attempt start. */
export class MeshStreamViewer {
  /** Resolves once the task's first attempt is running (its agent holds it; the child is starting). */
  readonly running: Promise<void>;
  private markRunning: () => void = () => {};

  private constructor(
    private readonly socket: WebSocket,
    onLine: OnLine,
  ) {
    this.running = new Promise((resolve) => (this.markRunning = resolve));
    socket.on("message", (raw) => {
      const at = performance.now();
      // A frame of another shape is skipped: the row's line count and stall check report what it lost.
      const parsed = parseJson(ViewerFrame, raw.toString());
      if (!parsed.ok) return;
      const frame = parsed.value;
      if (frame.type === "log.lines") {
        for (const line of frame.lines ?? []) if (line.stream === "stdout") onLine(line.text, at);
      } else if (frame.type === "task.snapshot") {
        const status = frame.task?.attempts[0]?.status;
        if (status !== undefined && status !== "dispatched") this.markRunning();
      }
    });
  }

  static async open(port: number, token: string, taskId: string, onLine: OnLine): Promise<MeshStreamViewer> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/parties/task/${taskId}?token=${encodeURIComponent(token)}`);
    const viewer = new MeshStreamViewer(socket, onLine);
    await opened(socket);
    socket.send(JSON.stringify({ type: "logs.subscribe", since_seq: 0 }));
    return viewer;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** A viewer of one stream of the plain ws relay: the producer's `log.batch` frames, as sent. */
export class WsStreamViewer {
  private constructor(
    private readonly socket: WebSocket,
    onLine: OnLine,
  ) {
    socket.on("message", (raw) => {
      const at = performance.now();
      const parsed = parseJson(ViewerFrame, raw.toString());
      if (!parsed.ok) return;
      for (const line of parsed.value.lines ?? []) if (line.stream === "stdout") onLine(line.text, at);
    });
  }

  static async open(url: string, onLine: OnLine): Promise<WsStreamViewer> {
    const socket = new WebSocket(url);
    const viewer = new WsStreamViewer(socket, onLine);
    await opened(socket);
    return viewer;
  }

  close(): void {
    this.socket.terminate();
  }
}
