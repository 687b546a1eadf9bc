import type * as Party from "partykit/server";
import { PartyName, type RegistryToAgent, type RegistryToDashboard, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { recordAudit } from "../audit/audit-record.ts";
import { mintAttemptToken } from "../auth/attempt-token.ts";
import { readSecrets } from "../auth/credentials.ts";
import { announce } from "../notification-outbox/announce.ts";
import { askRoom, sendToTask } from "../room-peers.ts";
import type { AgentRequests } from "./agent-requests.ts";
import type { LostNotice, RegistryEffect, RegistryEvent, RegistryState } from "./registry-state.ts";
import { agentKeys, persistedWrites } from "./registry-storage.ts";

/** The watchdog's tick: an agent is given up at most this long after its third missed beat. */
export const WATCHDOG_TICK_MS = 1000;
/** Dashboards get at most one agents snapshot per this many ms (heartbeats would flood them). */
const DASHBOARD_THROTTLE_MS = 1000;

/** What the effects need of the registry room. */
export type RegistryEffectPorts = {
  room: Party.Room;
  /** Open sockets by connection id (live-sockets.ts): sends go through these objects, never `getConnection`. */
  sockets: { socket(id: string): Party.Connection | undefined; forget(id: string): void };
  requests: AgentRequests;
  state: () => RegistryState;
  /** The other rooms, kept from the last request or connection (PartyKit hides them inside `onAlarm`). */
  parties: () => Party.Context["parties"] | null;
  send: (connection: Party.Connection, message: RegistryToAgent) => void;
  /** Decides an event and carries out its effects (the room's own loop). */
  run: (event: RegistryEvent) => Promise<unknown>;
  snapshot: () => RegistryToDashboard;
};

/**
 * Carries out the registry actor's effects. Writes are issued, not awaited, before the sends that follow them: the
 * output gate holds a room's outgoing messages until the writes before them are durable (docs/output-gate.md), so no
 * `task.assign` leaves before its assignment is stored.
 */
export class RegistryEffects {
  private delivering = false;
  private dashboardTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Whether a dashboard follows the fleet feed (the feed's replies say); no pushes while nobody does.
   * True at start: a registry that restarted alone pushes once, so dashboards that stayed connected to
   * the feed are not left with an old snapshot, and the reply says whether anyone watches.
   */
  private feedWatched = true;

  constructor(private readonly ports: RegistryEffectPorts) {}

  /** The fleet feed asked for a snapshot: a dashboard arrived, so pushes start again. */
  watched(): void {
    this.feedWatched = true;
  }

  perform(effect: RegistryEffect): Promise<void> | undefined {
    const { room, sockets } = this.ports;
    switch (effect.kind) {
      case "persist":
        return room.storage.put(persistedWrites(this.ports.state(), effect));
      case "send": {
        const connection = sockets.socket(effect.connectionId);
        if (connection !== undefined) this.ports.send(connection, effect.message);
        return undefined;
      }
      case "close":
        sockets.socket(effect.connectionId)?.close(effect.code, effect.reason);
        sockets.forget(effect.connectionId);
        return undefined;
      case "assign":
        return this.assign(effect);
      case "ask-merge": {
        // Waiting before the send: the agent's answer cannot come before its wait.
        this.ports.requests.expectMerge(effect.agent, effect.message.request_id);
        const connection = sockets.socket(effect.connectionId);
        if (connection !== undefined) this.ports.send(connection, effect.message);
        return undefined;
      }
      case "forget":
        return room.storage.delete(agentKeys(effect.agents)).then(() => undefined);
      case "audit":
        // Fire and forget: recordAudit never rejects (it logs a failed append itself).
        void recordAudit(room.context.parties, room.env, {
          role: "agent",
          credential: effect.credential,
          action: effect.action,
          outcome: effect.outcome,
        });
        return undefined;
      case "deliver-notices":
        return this.deliverLostNotices();
      case "notify-dashboards":
        return this.notifyDashboards();
      case "arm-watchdog":
        return this.armWatchdog();
      case "announce":
        return void announce(this.ports.parties(), room.env, effect.events);
      case "log":
        console.warn(effect.message);
        return undefined;
    }
  }

  /**
   * Keeps the watchdog ticking while any agent is connected or holds work, or notices or queued requests (their
   * timeout) wait.
   */
  async armWatchdog(): Promise<void> {
    const state = this.ports.state();
    const watched =
      state.connected.size > 0 ||
      state.lostNotices.length > 0 ||
      state.pending.length > 0 ||
      [...state.agents.values()].some((a) => a.running.length > 0 && a.lost_at === undefined);
    if (!watched || (await this.ports.room.storage.getAlarm()) !== null) return;
    await this.ports.room.storage.setAlarm(Date.now() + WATCHDOG_TICK_MS);
  }

  /** Sends a `task.assign` with its attempt token, minted for the agent it goes to (attempt-token.ts). */
  private async assign(effect: Extract<RegistryEffect, { kind: "assign" }>): Promise<void> {
    const secrets = readSecrets(this.ports.room.env);
    if ("code" in secrets) return;
    const attempt_token = await mintAttemptToken(
      { taskId: effect.message.task_id, attempt: effect.message.attempt, agent: effect.agent },
      secrets.orchestratorToken,
      Date.now(),
    );
    const connection = this.ports.sockets.socket(effect.connectionId);
    if (connection !== undefined) this.ports.send(connection, { ...effect.message, attempt_token });
  }

  /** Tells task rooms of their lost attempts; what cannot be delivered now stays queued in storage. */
  private async deliverLostNotices(): Promise<void> {
    const parties = this.ports.parties();
    const secrets = readSecrets(this.ports.room.env);
    // One delivery at a time: runs from the alarm, heartbeats and releases would otherwise overlap.
    if (this.delivering || parties === null || "code" in secrets || this.ports.state().lostNotices.length === 0) return;
    this.delivering = true;
    try {
      const delivered: LostNotice[] = [];
      for (const notice of [...this.ports.state().lostNotices]) {
        const { task_id, ...lost } = notice;
        const answer = await sendToTask(parties, secrets.orchestratorToken, task_id, lost);
        // Delivered, or refused for good (the attempt already ended, the task moved on): done with it.
        if (answer.ok || answer.error.code !== "internal") delivered.push(notice);
      }
      if (delivered.length > 0) await this.ports.run({ type: "notices-delivered", notices: delivered });
    } finally {
      this.delivering = false;
    }
  }

  /**
   * Pushes the agents snapshot to the fleet feed, at most once a DASHBOARD_THROTTLE_MS and only while a dashboard
   * watches.
   */
  private notifyDashboards(): undefined {
    if (this.dashboardTimer !== null || !this.feedWatched) return;
    this.dashboardTimer = setTimeout(() => {
      this.dashboardTimer = null;
      const parties = this.ports.parties();
      const secrets = readSecrets(this.ports.room.env);
      if (parties === null || "code" in secrets) return;
      void askRoom<{ watchers?: unknown }>(
        parties,
        PartyName.fleet,
        SINGLETON_ROOM_ID,
        secrets.orchestratorToken,
        "/",
        { method: "POST", body: this.ports.snapshot() },
      ).then((reply) => {
        if (reply.ok && reply.value.watchers === 0) this.feedWatched = false;
      });
    }, DASHBOARD_THROTTLE_MS);
  }
}
