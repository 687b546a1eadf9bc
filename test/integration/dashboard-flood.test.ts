// Heartbeats are never behind a viewer (docs/wire-protocol.md, flood limits). 200 real agents heartbeat once a second
// while one dashboard socket sends 5,000 frames at once: no agent is lost, and the dashboard still gets its snapshots
// (or, flooding, is closed with 1008 while the fleet goes on).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type AgentRecord, PartyName, SINGLETON_ROOM_ID } from "../../protocol/index.ts";
import { executorsFor, type Fleet, type Mesh, startFleet, startMesh, waitFor } from "./mesh-harness.ts";

const HEARTBEAT_S = 1;
const AGENTS = 200;
const FLOOD_FRAMES = 5000;
/**
 * Dashboards follow the fleet feed, not the registry (they once shared the registry with the agents, and a flood of
 * viewers delayed heartbeats).
 */
const DASHBOARD_PARTY = PartyName.fleet;
let mesh: Mesh;
let fleet: Fleet;

beforeAll(async () => {
  mesh = await startMesh({ MESH_HEARTBEAT_S: String(HEARTBEAT_S) });
  fleet = await startFleet(mesh, AGENTS, "vm-flood", executorsFor(["true"], ["deepseek"]));
  await waitFor(
    "the fleet online",
    async () => {
      const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
      return body.agents.filter((a) => a.state === "online").length === AGENTS;
    },
    60_000,
    200,
  );
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await mesh?.stop();
});

describe("a dashboard flood", () => {
  it(`of ${FLOOD_FRAMES} frames while ${AGENTS} agents heartbeat every ${HEARTBEAT_S} s loses no agent`, async () => {
    const link = (await mesh.api<{ token: string }>("/api/links", { method: "POST", body: {} })).body.token;
    const socket = new WebSocket(
      `ws://127.0.0.1:${mesh.port}/parties/${DASHBOARD_PARTY}/${SINGLETON_ROOM_ID}?token=${encodeURIComponent(link)}`,
    );
    let snapshots = 0;
    let closedWith: number | undefined;
    socket.on("message", () => (snapshots += 1));
    socket.on("close", (code) => (closedWith = code));
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    await waitFor("the first snapshot", () => snapshots > 0 || null, 10_000);
    const flooded = Date.now();
    for (let i = 0; i < FLOOD_FRAMES; i += 1) socket.send(JSON.stringify({ type: "agents.list" }));
    // Watch the fleet for 8 beats after the burst: every agent stays online, none is given up.
    let worstSilenceMs = 0;
    let lost = 0;
    const watchUntil = Date.now() + 8 * HEARTBEAT_S * 1000;
    while (Date.now() < watchUntil) {
      const { body } = await mesh.api<{ agents: AgentRecord[] }>("/api/agents");
      const now = Date.now();
      lost = Math.max(lost, body.agents.filter((a) => a.state !== "online").length);
      worstSilenceMs = Math.max(worstSilenceMs, ...body.agents.map((a) => now - (a.last_heartbeat ?? 0)));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    console.log(
      `dashboard flood on '${DASHBOARD_PARTY}': ${lost} of ${AGENTS} agents not online at worst, longest silence seen ${worstSilenceMs} ms, dashboard ${closedWith === undefined ? "still open" : `closed with ${closedWith}`} after ${snapshots} frames, ${Date.now() - flooded} ms`,
    );
    expect(lost).toBe(0);
    // The flooding socket is closed as a policy violation; a dashboard that behaves still follows the fleet.
    expect(closedWith).toBe(1008);
    const calm = new WebSocket(
      `ws://127.0.0.1:${mesh.port}/parties/${DASHBOARD_PARTY}/${SINGLETON_ROOM_ID}?token=${encodeURIComponent(link)}`,
    );
    const frames: Array<{ type: string; agents?: AgentRecord[] }> = [];
    calm.on("message", (raw) => frames.push(JSON.parse(raw.toString()) as { type: string; agents?: AgentRecord[] }));
    // Snapshots keep coming (heartbeats change the records), each with the whole fleet.
    await waitFor("two snapshots", () => frames.length >= 2 || null, 10_000);
    expect(frames.map((frame) => [frame.type, frame.agents?.length])).toContainEqual(["agents.snapshot", AGENTS]);
    calm.send("{not json");
    await waitFor("an error for a bad frame", () => frames.some((frame) => frame.type === "error") || null, 5_000);
    calm.close();
    // Three beats is the registry's limit; the flood must not bring any agent near it.
    expect(worstSilenceMs).toBeLessThan(3 * HEARTBEAT_S * 1000);
    socket.close();
  }, 120_000);
});
