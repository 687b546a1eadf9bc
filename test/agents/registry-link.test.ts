import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type AgentIdentity,
  REGISTRY_FINAL_CLOSE_CODES,
  REGISTRY_MAX_RETRIES,
  RegistryLink,
} from "../../agents/runtime/registry-link.ts";
import { type AttemptRef, CloseCode, PROTOCOL_VERSION, type TaskAssign } from "../../protocol/index.ts";
import { memoryTransports } from "./memory-transport.ts";

const identity: AgentIdentity = { name: "vm-1", kind: "vm", tiers: ["sonnet"], capacity: 2, version: "0.1.0" };
const welcome = (heartbeat_s = 5) => ({ type: "agent.welcome", heartbeat_s });
const assign: TaskAssign = { type: "task.assign", task_id: "01TASK", attempt: 1, tier: "sonnet", prompt: "fix it" };

/** The agent's credentials in memory: the enrollment token until the registry enrolls it. */
function memoryCredential(enrollmentToken: string | null = "agent-token") {
  const enrollment = enrollmentToken ?? undefined;
  let own: string | undefined;
  return {
    file: "/state/credential.json",
    token: () => own ?? enrollment ?? "",
    keep: (credential: string) => {
      own = credential;
    },
    forget: () => {
      own = undefined;
      return enrollment !== undefined;
    },
  };
}

function linkWithMemory(running: AttemptRef[] = [], credential = memoryCredential()) {
  const transports = memoryTransports();
  const logs: string[] = [];
  const assigned: TaskAssign[] = [];
  const fatal: string[] = [];
  const link = new RegistryLink({
    server: new URL("http://mesh.test:1999"),
    credential,
    identity,
    log: (line) => logs.push(line),
    running: () => running,
    onAssign: (message) => assigned.push(message),
    onFatal: (message) => fatal.push(message),
    openTransport: transports.open,
  });
  return { link, transport: transports.last(), logs, assigned, fatal };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("RegistryLink", () => {
  it("connects to the registry's singleton room with the agent token and starts at once", () => {
    const { transport, link } = linkWithMemory();
    expect(transport.started).toBe(true);
    expect(transport.spec).toMatchObject({ party: "registry", room: "main", maxRetries: REGISTRY_MAX_RETRIES });
    expect(typeof transport.spec.token === "function" ? transport.spec.token() : transport.spec.token).toBe(
      "agent-token",
    );
    expect(transport.spec.finalCloseCodes).toEqual(REGISTRY_FINAL_CLOSE_CODES);
    link.close();
  });

  it("says hello with the running attempts on every open, the first and each reconnect", () => {
    const running: AttemptRef[] = [{ task_id: "01A", attempt: 2 }];
    const { transport, link } = linkWithMemory(running);
    transport.open();
    transport.drop(1006);
    transport.open();
    const hellos = transport.sentOf("agent.hello");
    expect(hellos).toHaveLength(2);
    expect(hellos[1]).toEqual({ type: "agent.hello", protocol_version: PROTOCOL_VERSION, ...identity, running });
    link.close();
  });

  it("hands assignments to the agent and ignores acks and garbage", () => {
    const { transport, link, assigned, logs } = linkWithMemory();
    transport.open();
    transport.receive(welcome());
    transport.receive(assign);
    transport.receive({ type: "heartbeat.ack", server_time: 1 });
    transport.receive("{not json");
    transport.receive({ type: "task.assign", task_id: "01B" });
    expect(assigned).toEqual([assign]);
    expect(logs.filter((line) => line.startsWith("ignored a bad frame"))).toHaveLength(2);
    link.close();
  });

  it("releases a slot over the open connection and drops the release while disconnected", () => {
    const { transport, link } = linkWithMemory();
    link.release({ task_id: "01A", attempt: 1 });
    transport.open();
    link.release({ task_id: "01A", attempt: 1 });
    expect(transport.sentOf("task.released")).toEqual([{ type: "task.released", task_id: "01A", attempt: 1 }]);
    link.close();
  });

  it("heartbeats at the welcome's pace with the running attempts", () => {
    vi.useFakeTimers();
    const running: AttemptRef[] = [{ task_id: "01A", attempt: 1, child_alive: true }];
    const { transport, link } = linkWithMemory(running);
    transport.open();
    transport.receive(welcome(2));
    vi.advanceTimersByTime(1999);
    expect(transport.sentOf("agent.heartbeat")).toHaveLength(0);
    vi.advanceTimersByTime(1);
    transport.receive({ type: "heartbeat.ack", server_time: 1 });
    vi.advanceTimersByTime(2000);
    expect(transport.sentOf("agent.heartbeat")).toEqual([
      { type: "agent.heartbeat", running },
      { type: "agent.heartbeat", running },
    ]);
    link.close();
  });

  it("tells what it cannot use now in its hello and heartbeats, and beats at once when that changes (docs/faults.md)", () => {
    vi.useFakeTimers();
    const transports = memoryTransports();
    let degraded: { worktree?: string } | undefined = {
      worktree: "the worktrees directory /x is not writable (EROFS)",
    };
    const link = new RegistryLink({
      server: new URL("http://mesh.test:1999"),
      credential: memoryCredential(),
      identity,
      log: () => {},
      running: () => [],
      onAssign: () => {},
      onFatal: () => {},
      degraded: () => degraded,
      openTransport: transports.open,
    });
    const transport = transports.last();
    transport.open();
    expect(transport.sentOf("agent.hello")[0]).toMatchObject({
      degraded: { worktree: "the worktrees directory /x is not writable (EROFS)" },
    });
    link.beatNow();
    expect(transport.sentOf("agent.heartbeat")).toHaveLength(0);
    transport.receive(welcome(5));
    degraded = undefined;
    link.beatNow();
    expect(transport.sentOf("agent.heartbeat")).toEqual([{ type: "agent.heartbeat", running: [] }]);
    degraded = { worktree: "full" };
    vi.advanceTimersByTime(5000);
    expect(transport.sentOf("agent.heartbeat")[1]).toEqual({
      type: "agent.heartbeat",
      running: [],
      degraded: { worktree: "full" },
    });
    link.close();
  });

  it("stops heartbeating while disconnected and starts again on the next welcome", () => {
    vi.useFakeTimers();
    const { transport, link } = linkWithMemory();
    transport.open();
    transport.receive(welcome(1));
    transport.drop(1006);
    // Under two beats: partysocket reconnects by itself, the watchdog does not step in yet.
    vi.advanceTimersByTime(1500);
    expect(transport.sentOf("agent.heartbeat")).toHaveLength(0);
    transport.open();
    transport.receive(welcome(1));
    vi.advanceTimersByTime(1000);
    expect(transport.sentOf("agent.heartbeat")).toHaveLength(1);
    link.close();
  });

  it("rebuilds the link from scratch when the registry has not answered for two beats (a half-open socket)", () => {
    vi.useFakeTimers();
    const transports = memoryTransports();
    const logs: string[] = [];
    const link = new RegistryLink({
      server: new URL("http://mesh.test:1999"),
      credential: memoryCredential("t"),
      identity,
      log: (line) => logs.push(line),
      running: () => [],
      onAssign: () => {},
      onFatal: () => {},
      openTransport: transports.open,
    });
    const first = transports.last();
    first.open();
    first.receive(welcome(1));
    vi.advanceTimersByTime(3000);
    expect(transports.all).toHaveLength(2);
    expect(first.closedWith).toEqual({ code: 4000, reason: "no answer from the registry" });
    expect(logs).toContain("no answer from the mesh for 3 s; connecting again from scratch");
    // The new transport says hello; the dropped one's late events change nothing.
    const second = transports.last();
    second.open();
    expect(second.sentOf("agent.hello")).toHaveLength(1);
    first.receive({ type: "task.assign", task_id: "01LATE", attempt: 1, tier: "sonnet", prompt: "x" });
    first.drop(1006);
    second.receive(welcome(1));
    vi.advanceTimersByTime(1000);
    expect(second.sentOf("agent.heartbeat")).toHaveLength(1);
    expect(logs.filter((line) => line === "registry reached again")).toHaveLength(1);
    link.close();
  });

  it("never waits on nothing: an open socket whose hello is never answered is rebuilt after two beats of the default pace", () => {
    vi.useFakeTimers();
    const transports = memoryTransports();
    const link = new RegistryLink({
      server: new URL("http://mesh.test:1999"),
      credential: memoryCredential("t"),
      identity,
      log: () => {},
      running: () => [],
      onAssign: () => {},
      onFatal: () => {},
      openTransport: transports.open,
    });
    transports.last().open();
    vi.advanceTimersByTime(10_000);
    expect(transports.all).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(transports.all).toHaveLength(2);
    // And while the server stays silent, again every two beats: a connect loop that hangs is rebuilt too.
    vi.advanceTimersByTime(11_000);
    expect(transports.all).toHaveLength(3);
    link.close();
    vi.advanceTimersByTime(60_000);
    expect(transports.all).toHaveLength(3);
  });

  it("logs an outage once and the recovery once", () => {
    const { transport, link, logs } = linkWithMemory();
    transport.open();
    transport.drop(1006, "gone");
    transport.fail();
    transport.fail();
    transport.open();
    expect(logs).toEqual(["registry connection lost (code 1006: gone); reconnecting", "registry reached again"]);
    link.close();
  });

  it("reports a registry it cannot reach once, then keeps retrying", () => {
    const { transport, link, logs, fatal } = linkWithMemory();
    transport.fail("connect ECONNREFUSED 127.0.0.1:1999");
    transport.fail("connect ECONNREFUSED 127.0.0.1:1999");
    expect(logs).toEqual([
      "cannot reach the registry at http://mesh.test:1999 (connect ECONNREFUSED 127.0.0.1:1999); retrying",
    ]);
    expect(fatal).toEqual([]);
    expect(transport.closedWith).toBeUndefined();
    link.close();
  });

  it.each([
    [401, "unauthorized"],
    [403, "forbidden"],
  ])("gives up for good when the mesh refuses the token with %i", (status, reason) => {
    const { transport, fatal } = linkWithMemory();
    transport.refuse(status);
    expect(fatal).toEqual([
      `the mesh refused the agent's token (Unexpected server response: ${status}, ${reason}); set MESH_AGENT_TOKEN to one of the mesh's enrollment tokens (or, if it expired, a current one)`,
    ]);
    expect(transport.closedWith).toEqual({ code: 1000, reason: "agent stopping" });
  });

  it("keeps the credential it is enrolled with and presents it on every later connect", () => {
    const credential = memoryCredential();
    const { transport, link, logs } = linkWithMemory([], credential);
    const token = () => (typeof transport.spec.token === "function" ? transport.spec.token() : transport.spec.token);
    transport.open();
    transport.receive({ type: "agent.enrolled", name: "vm-1", credential: "mesh-agent:vm-1:own" });
    transport.receive(welcome());
    expect(token()).toBe("mesh-agent:vm-1:own");
    expect(logs[0]).toMatch(/enrolled as vm-1; its own credential is kept in \/state\/credential.json \(mode 0600\)/);
    link.close();
  });

  it.each([
    ["name_taken", "the name vm-1 belongs to another agent's credential"],
    ["agent_revoked", "agent vm-1 was revoked"],
  ])("gives up for good when the registry refuses it with %s, saying why", (code, message) => {
    const { transport, fatal } = linkWithMemory();
    transport.open();
    transport.receive({ type: "error", code, message, in_reply_to: "agent.hello" });
    transport.drop(CloseCode.forbidden, code);
    expect(fatal).toEqual([`the mesh refused this agent (${code}): ${message}`]);
  });

  it("enrolls again when the mesh forgot its credential, and gives up when it has no enrollment token to do it", () => {
    const credential = memoryCredential();
    credential.keep("mesh-agent:vm-1:old");
    const { transport, link, fatal, logs } = linkWithMemory([], credential);
    transport.open();
    transport.receive({
      type: "error",
      code: "credential_unknown",
      message: "no agent vm-1 with this credential",
      in_reply_to: "agent.hello",
    });
    transport.drop(CloseCode.credentialUnknown, "credential_unknown");
    expect(fatal).toEqual([]);
    expect(credential.token()).toBe("agent-token");
    expect(logs.join("\n")).toMatch(/enrolling again with MESH_AGENT_TOKEN/);
    link.close();
    const bare = memoryCredential(null);
    bare.keep("mesh-agent:vm-1:old");
    const second = linkWithMemory([], bare);
    second.transport.open();
    second.transport.receive({
      type: "error",
      code: "credential_unknown",
      message: "no agent vm-1 with this credential",
    });
    second.transport.drop(CloseCode.credentialUnknown, "credential_unknown");
    expect(second.fatal[0]).toMatch(/set MESH_AGENT_TOKEN to an enrollment token/);
  });

  it("keeps retrying a refusal that is not about the token", () => {
    const { transport, link, fatal } = linkWithMemory();
    transport.refuse(502);
    expect(fatal).toEqual([]);
    expect(transport.closedWith).toBeUndefined();
    link.close();
  });

  it("gives up on an unsupported protocol version and says to update the agent", () => {
    const { transport, fatal } = linkWithMemory();
    transport.open();
    transport.drop(CloseCode.unsupportedVersion, "protocol 1 is not supported");
    expect(fatal[0]).toMatch(/does not support this agent's protocol version .*update the agent/);
    expect(transport.closedWith).toBeDefined();
  });

  it("gives up when another agent of the same name replaced it", () => {
    const { transport, fatal } = linkWithMemory();
    transport.open();
    transport.drop(CloseCode.replaced);
    expect(fatal).toEqual([
      "another agent connected with the name 'vm-1' and replaced this one; give each agent its own --name",
    ]);
  });

  it("gives up once the transport has used every retry", () => {
    const { transport, fatal } = linkWithMemory();
    transport.retriesExhausted = true;
    transport.fail();
    expect(fatal).toEqual([`the registry could not be reached after ${REGISTRY_MAX_RETRIES} tries`]);
  });

  it("reports nothing and sends nothing once closed", () => {
    vi.useFakeTimers();
    const { transport, link, fatal, logs } = linkWithMemory();
    transport.open();
    transport.receive(welcome(1));
    link.close();
    const sent = transport.sent.length;
    vi.advanceTimersByTime(10_000);
    transport.refuse(401);
    expect(transport.sent).toHaveLength(sent);
    expect(fatal).toEqual([]);
    expect(logs.filter((line) => line.includes("lost"))).toEqual([]);
  });
});
