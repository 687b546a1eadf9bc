import {
  type AgentDegraded,
  type AgentHello,
  type ApplyOutcome,
  type AttemptRef,
  CloseCode,
  PartyName,
  PROTOCOL_VERSION,
  parseMessage,
  RegistryToAgent,
  SINGLETON_ROOM_ID,
  type TaskApply,
  type TaskAssign,
  type TaskEnded,
} from "../../protocol/index.ts";
import type { AgentCredential } from "./agent-credential.ts";
import type { AgentLog } from "./agent-log.ts";
import {
  describeClose,
  type FrameData,
  type LinkFailure,
  type LinkTransport,
  type OpenTransport,
} from "./link-transport.ts";
import { openMeshSocket } from "./mesh-socket.ts";
import { answerDelivery, answerRemoteApply } from "./remote-requests.ts";

/** Who the agent is, as its hello says (the running list is read at each open). */
export type AgentIdentity = Omit<AgentHello, "type" | "protocol_version" | "running">;

export interface RegistryLinkOptions {
  server: URL;
  /** Its own credential once enrolled, else the enrollment token (docs/agent-identity.md). */
  credential: Pick<AgentCredential, "token" | "keep" | "forget" | "file">;
  identity: AgentIdentity;
  log: AgentLog;
  /** The attempts the agent holds now, for the hello and every heartbeat. */
  running: () => AttemptRef[];
  onAssign: (assign: TaskAssign) => void;
  /** Merge an attempt's branch into the user's checkout (`apply`); answer with `merged`. */
  onMerge?: (merge: TaskApply) => void;
  /** A task ended: its worktrees may go, but for the winner's. */
  onWorktreesRelease?: (release: TaskEnded) => void;
  /** Disk the worktrees use now, in bytes, for heartbeats (undefined while not measured yet). */
  worktreesBytes?: () => number | undefined;
  /** Capabilities the agent cannot use now, and why (docs/faults.md), for the hello and every heartbeat. */
  degraded?: () => AgentDegraded | undefined;
  /** The registry refused the agent for good (old protocol, replaced, wrong token): do not retry. */
  onFatal: (message: string) => void;
  /** The registry welcomed the agent (every time: after each reconnect too). */
  onRegistered?: () => void;
  /** How the link reaches the registry; a partysocket by default, an in-memory transport in tests. */
  openTransport?: OpenTransport;
}

export const REGISTRY_MAX_RETRIES = 10_000;
/** The beat assumed until the registry's welcome names one (`MESH_HEARTBEAT_S`'s default, docs/settings.md). */
const DEFAULT_BEAT_MS = 5000;
/** Beats of silence after which the link is rebuilt from scratch, whatever state it is in. */
const SILENT_BEATS = 2;
/** How often the agent's watchdog looks. */
const WATCHDOG_TICK_MS = 1000;
/** Close codes after which the registry will not take this agent back as it is. */
export const REGISTRY_FINAL_CLOSE_CODES: readonly number[] = [
  CloseCode.unsupportedVersion,
  CloseCode.replaced,
  CloseCode.forbidden,
];

/**
 * The agent's one persistent link to the registry, as a message sequence over a reconnecting
 * transport: hello on every open, heartbeats, assignments in, releases out.
 */
export class RegistryLink {
  private readonly options: RegistryLinkOptions;
  private transport: LinkTransport;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly watchdog: ReturnType<typeof setInterval>;
  /** The registry's beat, from its last welcome. */
  private beatMs = DEFAULT_BEAT_MS;
  /**
   * When the registry last said anything (its heartbeat acks above all), or the link was (re)built or
   * opened: the agent-side watchdog reads it.
   */
  private lastHeard = Date.now();
  private registeredOnce = false;
  private connected = false;
  private outage = false;
  private closed = false;
  /** The registry's last refusal of this agent (name taken, revoked, wrong credential), for the line that ends it. */
  private refusal: string | undefined;

  constructor(options: RegistryLinkOptions) {
    this.options = options;
    this.transport = this.openTransport();
    this.watchdog = setInterval(() => this.watch(), WATCHDOG_TICK_MS);
  }

  /** A new transport, wired so that events of one the link has dropped change nothing. */
  private openTransport(): LinkTransport {
    const transport = (this.options.openTransport ?? openMeshSocket)({
      server: this.options.server,
      token: () => this.options.credential.token(),
      party: PartyName.registry,
      room: SINGLETON_ROOM_ID,
      maxRetries: REGISTRY_MAX_RETRIES,
      finalCloseCodes: REGISTRY_FINAL_CLOSE_CODES,
    });
    const current = (): boolean => transport === this.transport;
    transport.onopen = () => current() && this.onOpen();
    transport.onmessage = (data) => current() && this.onMessage(data);
    transport.onclose = (code, reason) => current() && this.onClose(code, reason);
    transport.onerror = (failure) => current() && this.onError(failure);
    transport.start();
    return transport;
  }

  /**
   * The agent-side watchdog (docs/wire-protocol.md, heartbeats): however the link got there (a half-open socket, a hung
   * server, an open socket whose hello was never answered, a reconnect loop that stalled), a registry
   * silent for SILENT_BEATS beats means the link is rebuilt from scratch: a new transport, a new
   * socket, a new hello. It never ends up waiting on nothing.
   */
  private watch(): void {
    if (this.closed) return;
    const silentMs = Date.now() - this.lastHeard;
    if (silentMs <= SILENT_BEATS * this.beatMs) return;
    this.options.log(`no answer from the mesh for ${Math.round(silentMs / 1000)} s; connecting again from scratch`);
    this.stopHeartbeat();
    this.connected = false;
    this.outage = true;
    this.lastHeard = Date.now();
    const dropped = this.transport;
    this.transport = this.openTransport();
    dropped.close(4000, "no answer from the registry");
  }

  /** The agent serves other tiers now (its executors file changed): a new socket and hello say so. */
  rehello(identity: AgentIdentity): void {
    this.options.identity = identity;
    if (this.connected) this.transport.reconnect(4000, "the agent's tiers changed");
  }

  /** How a `branch.merge` went. */
  merged(requestId: string, outcome: ApplyOutcome): void {
    this.transport.send({ type: "branch.merged", request_id: requestId, outcome });
  }

  /**
   * The attempt is over (or refused): its slot is free. Lost while disconnected; the next hello's running list says the
   * same.
   */
  release(ref: AttemptRef): void {
    this.transport.send({ type: "task.released", ...ref });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.stopHeartbeat();
    this.transport.close(1000, "agent stopping");
  }

  private onOpen(): void {
    if (this.outage) this.options.log("registry reached again");
    this.outage = false;
    this.connected = true;
    this.lastHeard = Date.now();
    const degraded = this.options.degraded?.();
    this.transport.send({
      type: "agent.hello",
      protocol_version: PROTOCOL_VERSION,
      ...this.options.identity,
      running: this.options.running(),
      ...(degraded === undefined ? {} : { degraded }),
    });
  }

  private onMessage(data: FrameData): void {
    this.lastHeard = Date.now();
    const parsed = parseMessage(RegistryToAgent, data);
    if (!parsed.ok) {
      this.options.log(`ignored a bad frame from the registry (${parsed.error.code}: ${parsed.error.message})`);
      return;
    }
    const message = parsed.value;
    switch (message.type) {
      case "agent.welcome": {
        const { name, tiers } = this.options.identity;
        if (!this.registeredOnce) this.options.log(`registered as ${name} with tiers ${tiers.join(",")}`);
        this.registeredOnce = true;
        this.options.onRegistered?.();
        this.beatMs = message.heartbeat_s * 1000;
        this.startHeartbeat();
        return;
      }
      case "agent.enrolled":
        // Kept before anything else happens: the next reconnect presents it (registry-link's token is read per
        // connect).
        this.options.credential.keep(message.credential);
        this.options.log(
          `enrolled as ${message.name}; its own credential is kept in ${this.options.credential.file} (mode 0600)`,
        );
        return;
      case "task.assign":
        this.options.onAssign(message);
        return;
      case "branch.merge":
        // A repo task's apply merges on the remote, from the agent's mirror (docs/delivery.md).
        if (message.remote !== undefined)
          void answerRemoteApply({ ...message, remote: message.remote }, this.options.log).then((outcome) =>
            this.merged(message.request_id, outcome),
          );
        else if (this.options.onMerge === undefined)
          this.merged(message.request_id, {
            ok: false,
            code: "internal",
            message: "this agent does not apply branches",
            files: [],
          });
        else this.options.onMerge(message);
        return;
      case "branch.deliver":
        void answerDelivery(message, this.options.log).then((outcome) =>
          this.transport.send({ type: "branch.delivered", request_id: message.request_id, outcome }),
        );
        return;
      case "worktrees.release":
        this.options.onWorktreesRelease?.(message);
        return;
      case "heartbeat.ack":
        return;
      case "error":
        if (message.code === "credential_unknown") {
          // Forgotten by the mesh (DELETE /api/agents/<name>), or another mesh's state: enroll again if the token is
          // here.
          if (this.options.credential.forget())
            this.options.log(
              `the mesh does not know this agent's credential (${message.message}); enrolling again with MESH_AGENT_TOKEN`,
            );
          else
            this.refusal = `${message.message}; set MESH_AGENT_TOKEN to an enrollment token and start the agent again`;
        } else if (
          message.code === "name_taken" ||
          message.code === "agent_revoked" ||
          message.code === "unauthorized"
        ) {
          this.refusal = `the mesh refused this agent (${message.code}): ${message.message}`;
        }
        this.options.log(
          `registry error ${message.code}${message.in_reply_to === undefined ? "" : ` (to ${message.in_reply_to})`}: ${message.message}`,
        );
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    this.stopHeartbeat();
    const wasConnected = this.connected;
    this.connected = false;
    if (this.closed) return;
    if (code === CloseCode.unsupportedVersion) {
      this.fatal(
        `the mesh does not support this agent's protocol version ${PROTOCOL_VERSION} (${describeClose(code, reason)}); update the agent`,
      );
    } else if (code === CloseCode.forbidden || (code === CloseCode.credentialUnknown && this.refusal !== undefined)) {
      this.fatal(this.refusal ?? `the mesh refused this agent (${describeClose(code, reason)})`);
    } else if (code === CloseCode.replaced) {
      this.fatal(
        `another agent connected with the name '${this.options.identity.name}' and replaced this one; give each agent its own --name`,
      );
    } else if (this.transport.retriesExhausted) {
      this.fatal(`the registry could not be reached after ${REGISTRY_MAX_RETRIES} tries`);
    } else if (wasConnected && !this.outage) {
      // A failed connect also closes; onError reports those.
      this.outage = true;
      this.options.log(`registry connection lost (${describeClose(code, reason)}); reconnecting`);
    }
  }

  private onError(failure: LinkFailure): void {
    if (this.closed) return;
    // The upgrade is answered 401/403 before any socket exists: retrying with the same token cannot help.
    const reason = failure.refusal?.reason;
    if (reason === "unauthorized" || reason === "forbidden") {
      this.fatal(
        `the mesh refused the agent's token (${failure.message}, ${reason}); set MESH_AGENT_TOKEN to one of the mesh's enrollment tokens (or, if it expired, a current one)`,
      );
      return;
    }
    if (this.outage) return;
    this.outage = true;
    this.options.log(`cannot reach the registry at ${this.options.server.origin} (${failure.message}); retrying`);
  }

  /**
   * A heartbeat now, out of turn: what the agent can do changed (docs/faults.md). Sent before the
   * failed attempt's release, so the registry hands the freed slot no task the agent cannot take.
   */
  beatNow(): void {
    if (this.heartbeat !== undefined) this.beat();
  }

  private beat(): void {
    const bytes = this.options.worktreesBytes?.();
    const degraded = this.options.degraded?.();
    this.transport.send({
      type: "agent.heartbeat",
      running: this.options.running(),
      ...(bytes === undefined ? {} : { worktrees_bytes: bytes }),
      ...(degraded === undefined ? {} : { degraded }),
    });
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => this.beat(), this.beatMs);
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
