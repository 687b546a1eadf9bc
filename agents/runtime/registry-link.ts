import type PartySocket from "partysocket";
import {
  CloseCode,
  PROTOCOL_VERSION,
  RegistryToAgent,
  parseMessage,
  type AgentHello,
  type AttemptRef,
  type TaskAssign,
} from "../../protocol/index.ts";
import type { AgentLog } from "./agent-log.ts";
import { describeClose, frameData, openMeshSocket, sendMessage } from "./mesh-socket.ts";

/** Who the agent is, as its hello says (the running list is read at each open). */
export type AgentIdentity = Omit<AgentHello, "type" | "protocol_version" | "running">;

export interface RegistryLinkOptions {
  server: URL;
  token: string;
  identity: AgentIdentity;
  log: AgentLog;
  /** The attempts the agent holds now, for the hello and every heartbeat. */
  running: () => AttemptRef[];
  onAssign: (assign: TaskAssign) => void;
  /** The registry refused the agent for good (old protocol, replaced, wrong token): do not retry. */
  onFatal: (message: string) => void;
}

const MAX_RETRIES = 10_000;

/** The agent's one persistent socket to the registry: hello on every open, heartbeats, assignments in, releases out. */
export class RegistryLink {
  private readonly options: RegistryLinkOptions;
  private readonly socket: PartySocket;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** When the registry last said anything (its heartbeat acks above all): the agent-side watchdog reads it. */
  private lastHeard = 0;
  private registeredOnce = false;
  private connected = false;
  private outage = false;
  private closed = false;

  constructor(options: RegistryLinkOptions) {
    this.options = options;
    this.socket = openMeshSocket({
      server: options.server,
      token: options.token,
      party: "registry",
      room: "main",
      maxRetries: MAX_RETRIES,
      finalCloseCodes: [CloseCode.unsupportedVersion, CloseCode.replaced],
    });
    this.socket.addEventListener("open", () => this.onOpen());
    this.socket.addEventListener("message", (event) => this.onMessage(event));
    this.socket.addEventListener("close", (event) => this.onClose(event.code, event.reason));
    this.socket.addEventListener("error", (event) => this.onError(event.message));
  }

  /** The attempt is over (or refused): its slot is free. Lost while disconnected; the next hello's running list says the same. */
  release(ref: AttemptRef): void {
    sendMessage(this.socket, { type: "task.released", ...ref });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeat();
    this.socket.close(1000, "agent stopping");
  }

  private onOpen(): void {
    if (this.outage) this.options.log("registry reached again");
    this.outage = false;
    this.connected = true;
    this.lastHeard = Date.now();
    sendMessage(this.socket, { type: "agent.hello", protocol_version: PROTOCOL_VERSION, ...this.options.identity, running: this.options.running() });
  }

  private onMessage(event: MessageEvent): void {
    this.lastHeard = Date.now();
    const parsed = parseMessage(RegistryToAgent, frameData(event));
    if (!parsed.ok) {
      this.options.log(`ignored a bad frame from the registry (${parsed.error.code}: ${parsed.error.message})`);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case "agent.welcome": {
        const { name, tiers } = this.options.identity;
        if (!this.registeredOnce) this.options.log(`registered as ${name} with tiers ${tiers.join(",")}`);
        this.registeredOnce = true;
        this.startHeartbeat(message.heartbeat_s);
        return;
      }
      case "task.assign":
        this.options.onAssign(message);
        return;
      case "heartbeat.ack":
        return;
      case "error":
        this.options.log(`registry error ${message.code}${message.in_reply_to === undefined ? "" : ` (to ${message.in_reply_to})`}: ${message.message}`);
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    this.stopHeartbeat();
    const wasConnected = this.connected;
    this.connected = false;
    if (this.closed) return;
    if (code === CloseCode.unsupportedVersion) {
      this.fatal(`the mesh does not support this agent's protocol version ${PROTOCOL_VERSION} (${describeClose(code, reason)}); update the agent`);
    } else if (code === CloseCode.replaced) {
      this.fatal(`another agent connected with the name '${this.options.identity.name}' and replaced this one; give each agent its own --name`);
    } else if (this.socket.retryCount >= MAX_RETRIES) {
      this.fatal(`the registry could not be reached after ${MAX_RETRIES} tries`);
    } else if (wasConnected && !this.outage) {
      // A failed connect also closes; onError reports those.
      this.outage = true;
      this.options.log(`registry connection lost (${describeClose(code, reason)}); reconnecting`);
    }
  }

  private onError(message: string): void {
    if (this.closed) return;
    // The upgrade is answered 401/403 before any socket exists: retrying with the same token cannot help.
    if (/\b40[13]\b/.test(message)) {
      this.fatal(`the mesh refused the agent token (${message}); set MESH_AGENT_TOKEN to the server's agent token`);
      return;
    }
    if (this.outage) return;
    this.outage = true;
    this.options.log(`cannot reach the registry at ${this.options.server.origin} (${message}); retrying`);
  }

  private startHeartbeat(heartbeatS: number): void {
    this.stopHeartbeat();
    const beatMs = heartbeatS * 1000;
    this.heartbeat = setInterval(() => {
      // Agent-side watchdog: a socket that looks open but carries no answer for two beats is dead
      // (a half-open TCP connection, a hung server): drop it and reconnect.
      if (Date.now() - this.lastHeard > 2 * beatMs) {
        this.options.log(`no answer from the mesh for ${(2 * beatMs) / 1000} s; reconnecting`);
        this.stopHeartbeat();
        this.socket.reconnect(4000, "no heartbeat answer");
        return;
      }
      sendMessage(this.socket, { type: "agent.heartbeat", running: this.options.running() });
    }, beatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private fatal(message: string): void {
    this.close();
    this.options.onFatal(message);
  }
}
