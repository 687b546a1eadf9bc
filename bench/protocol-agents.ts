// Bench-only agents: real protocol clients on real sockets, many in the bench's own process, so the
// process that sends `POST /api/tasks` also timestamps the `task.assign` on the agent's socket (one
// clock, no cross-process skew). Each says `agent.hello`, heartbeats at the registry's rate, and
// runs an assigned attempt as a no-op the way an agent must (attempt.hello → attempt.exit →
// task.released), so tasks end and slots free and the mesh's state stays bounded.
import WebSocket from "ws";
import {
  type AttemptRef,
  type ExecutorTier,
  PartyName,
  PROTOCOL_VERSION,
  parseMessage,
  RegistryToAgent,
  SINGLETON_ROOM_ID,
  TaskToAgent,
} from "../protocol/index.ts";

/** One assignment as seen on an agent's socket, and its no-op run. */
export type Assignment = { receivedAt: number; taskId: string; attempt: number; finished: Promise<void> };

const ATTEMPT_TIMEOUT_MS = 30_000;
/** Agents connecting at once: a burst of a thousand hellos would measure the burst. */
const CONNECT_CONCURRENCY = 50;

class ProtocolAgent {
  private readonly running: AttemptRef[] = [];
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private waiting: ((assignment: Assignment) => void) | undefined;
  readonly welcomed: Promise<void>;

  constructor(
    readonly name: string,
    private readonly base: string,
    private readonly token: string,
    tier: ExecutorTier,
    private readonly socket = new WebSocket(
      `${base}/parties/${PartyName.registry}/${SINGLETON_ROOM_ID}?token=${encodeURIComponent(token)}`,
    ),
  ) {
    this.welcomed = new Promise((resolve, reject) => {
      // Always listened to: a reset after the welcome (a dev server reloading) must not throw.
      socket.on("error", reject);
      socket.once("close", (code) =>
        reject(new Error(`agent ${name}: registry socket closed (${code}) before the welcome`)),
      );
      socket.on("message", (raw) => {
        // The instant first: this is the figure the dispatch row reports.
        const receivedAt = performance.now();
        // Read as a real agent reads it: a frame of another shape is a failure of the row, not a crash.
        const parsed = parseMessage(RegistryToAgent, raw.toString());
        if (!parsed.ok) {
          reject(
            new Error(`agent ${name}: a bad frame from the registry (${parsed.error.code}: ${parsed.error.message})`),
          );
          return;
        }
        const frame = parsed.value;
        if (frame.type === "agent.welcome") {
          this.startHeartbeat(frame.heartbeat_s);
          resolve();
        } else if (frame.type === "task.assign") {
          // The attempt's own token opens its task room (docs/agent-identity.md), as a real agent does.
          this.onAssign(receivedAt, frame.task_id, frame.attempt, frame.attempt_token ?? this.token);
        }
      });
    });
    socket.once("open", () => {
      socket.send(
        JSON.stringify({
          type: "agent.hello",
          protocol_version: PROTOCOL_VERSION,
          name,
          kind: "vm",
          tiers: [tier],
          capacity: 1,
          version: "bench",
          running: [],
        }),
      );
    });
  }

  /** The next assignment this agent receives. */
  nextAssignment(): Promise<Assignment> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.socket.terminate();
  }

  private startHeartbeat(seconds: number): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (this.socket.readyState === WebSocket.OPEN)
        this.socket.send(JSON.stringify({ type: "agent.heartbeat", running: this.running }));
    }, seconds * 1000);
  }

  private onAssign(receivedAt: number, taskId: string, attempt: number, attemptToken: string): void {
    const ref = { task_id: taskId, attempt };
    this.running.push(ref);
    const finished = this.runNoop(taskId, attempt, attemptToken).finally(() => {
      this.running.splice(this.running.indexOf(ref), 1);
      if (this.socket.readyState === WebSocket.OPEN)
        this.socket.send(JSON.stringify({ type: "task.released", ...ref }));
    });
    // An assignment nobody waits for (one handed out again) may fail unobserved; a waiter still sees the failure.
    finished.catch(() => {});
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ receivedAt, taskId, attempt, finished });
  }

  /** The attempt as a child that exits 0 at once: hello, accepted, exit, closed. */
  private runNoop(taskId: string, attempt: number, attemptToken: string): Promise<void> {
    const socket = new WebSocket(
      `${this.base}/parties/${PartyName.task}/${taskId}?token=${encodeURIComponent(attemptToken)}`,
    );
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`attempt ${taskId}/${attempt} did not close within ${ATTEMPT_TIMEOUT_MS} ms`)),
        ATTEMPT_TIMEOUT_MS,
      );
      const settle = (error?: Error): void => {
        clearTimeout(timer);
        socket.terminate();
        if (error === undefined) resolve();
        else reject(error);
      };
      socket.once("open", () =>
        socket.send(
          JSON.stringify({
            type: "attempt.hello",
            protocol_version: PROTOCOL_VERSION,
            agent: this.name,
            attempt,
            executor: "true",
          }),
        ),
      );
      socket.on("error", settle);
      socket.once("close", (code) =>
        settle(new Error(`attempt ${taskId}/${attempt}: task room closed the socket (${code})`)),
      );
      socket.on("message", (raw) => {
        const parsed = parseMessage(TaskToAgent, raw.toString());
        if (!parsed.ok) {
          settle(
            new Error(
              `attempt ${taskId}/${attempt}: a bad frame from the task room (${parsed.error.code}: ${parsed.error.message})`,
            ),
          );
          return;
        }
        const frame = parsed.value;
        if (frame.type === "attempt.accepted") {
          socket.send(
            JSON.stringify({
              type: "attempt.exit",
              attempt,
              line_count: 0,
              exit_code: 0,
              signal: null,
              duration_ms: 0,
            }),
          );
        } else if (frame.type === "attempt.closed") {
          settle();
        } else if (frame.type === "error") {
          settle(new Error(`attempt ${taskId}/${attempt}: ${frame.code}: ${frame.message}`));
        }
      });
    });
  }
}

/** A growing set of protocol agents named `<prefix>-<i>`, all serving one tier. */
export class ProtocolAgents {
  private readonly agents: ProtocolAgent[] = [];

  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly tier: ExecutorTier,
    private readonly prefix: string,
  ) {}

  get size(): number {
    return this.agents.length;
  }

  /** Connects agents until `count` are welcomed. */
  async growTo(count: number): Promise<void> {
    while (this.agents.length < count) {
      const batch: ProtocolAgent[] = [];
      for (let i = 0; i < CONNECT_CONCURRENCY && this.agents.length + batch.length < count; i++) {
        batch.push(
          new ProtocolAgent(`${this.prefix}-${this.agents.length + batch.length}`, this.base, this.token, this.tier),
        );
      }
      this.agents.push(...batch);
      await Promise.all(batch.map((agent) => agent.welcomed));
    }
  }

  agent(index: number): ProtocolAgent {
    const agent = this.agents[index];
    if (agent === undefined) throw new Error(`no protocol agent ${index} (${this.agents.length} connected)`);
    return agent;
  }

  async stop(): Promise<void> {
    for (const agent of this.agents) agent.close();
    this.agents.length = 0;
  }
}
