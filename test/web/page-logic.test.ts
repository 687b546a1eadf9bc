import { describe, expect, it } from "vitest";
import { isTaskLink, parsePageFragment, taskFragment, taskIdOfLink } from "../../web/src/fragment-params.ts";
import { SeqLedger } from "../../web/src/seq-ledger.ts";
import {
  initialHealth,
  nextHealth,
  pageConnection,
  REFUSED_AFTER_FAILED_OPENS,
  type SocketEvent,
  type SocketHealth,
} from "../../web/src/socket-health.ts";
import { ago, duration } from "../../web/src/time-format.ts";

const ID = "01JABCDEFGHJKMNPQRSTVWXYZ0";
const run = (events: SocketEvent[]): SocketHealth => events.reduce(nextHealth, initialHealth);
const failedOpen: SocketEvent = { kind: "close", code: 1006 };

describe("page fragment", () => {
  it("reads a watch link's task and token, decoding the token", () => {
    const link = `v1.task-${ID}.1900000000.sig_-x`;
    expect(parsePageFragment(taskFragment(ID, link))).toEqual({ taskId: ID, token: link });
  });

  it("keeps a '+' in a token instead of turning it into a space", () => {
    expect(parsePageFragment("#token=abc+def").token).toBe("abc+def");
  });

  it("takes the task from a task link when the fragment names none", () => {
    expect(parsePageFragment(`#token=v1.task-${ID}.1900000000.sig`).taskId).toBe(ID);
  });

  it("selects no task for a dashboard link and nothing for an empty fragment", () => {
    expect(parsePageFragment("#token=v1.dashboard.1900000000.sig")).toEqual({
      taskId: null,
      token: "v1.dashboard.1900000000.sig",
    });
    expect(parsePageFragment("")).toEqual({ taskId: null, token: null });
    expect(parsePageFragment("#token=%E0%A4%A")).toEqual({ taskId: null, token: null });
  });

  it("tells task links from dashboard links and the orchestrator token", () => {
    expect(isTaskLink(`v1.task-${ID}.1.s`)).toBe(true);
    expect(isTaskLink("v1.dashboard.1.s")).toBe(false);
    expect(taskIdOfLink("orch-token-1234567890")).toBeNull();
  });
});

describe("seq ledger", () => {
  it("drops a line it already holds and subscribes from one past the last", () => {
    const ledger = new SeqLedger();
    expect(ledger.nextSince()).toBe(0);
    expect([0, 1, 2].map((seq) => ledger.add(seq))).toEqual([true, true, true]);
    expect(ledger.add(1)).toBe(false);
    expect(ledger.nextSince()).toBe(3);
    expect(ledger.count).toBe(3);
  });

  it("remembers seqs that arrive out of order", () => {
    const ledger = new SeqLedger();
    ledger.add(0);
    ledger.add(5);
    expect(ledger.has(5)).toBe(true);
    expect(ledger.has(3)).toBe(false);
    expect(ledger.add(5)).toBe(false);
    for (const seq of [1, 2, 3, 4]) ledger.add(seq);
    expect(ledger.nextSince()).toBe(6);
    expect(ledger.count).toBe(6);
  });
});

describe("socket health", () => {
  it("calls a link refused after repeated failed opens with no successful one", () => {
    const failures = Array.from({ length: REFUSED_AFTER_FAILED_OPENS - 1 }, () => failedOpen);
    expect(run(failures).phase).toBe("connecting");
    expect(run([...failures, failedOpen]).phase).toBe("refused");
  });

  it("keeps reconnecting a link that worked once, however often it fails after", () => {
    const health = run([{ kind: "open" }, failedOpen, failedOpen, failedOpen, failedOpen, failedOpen]);
    expect(health.phase).toBe("reconnecting");
    expect(run([{ kind: "open" }, failedOpen, { kind: "open" }]).phase).toBe("live");
  });

  it("stops for good on 'no such task'", () => {
    const health = run([{ kind: "open" }, { kind: "close", code: 4404 }, { kind: "open" }]);
    expect(health.phase).toBe("not_found");
  });

  it("sums the page's sockets into one header state", () => {
    expect(pageConnection(["live", "live"])).toBe("live");
    expect(pageConnection(["live", "reconnecting"])).toBe("reconnecting");
    expect(pageConnection(["connecting", "live"])).toBe("connecting");
    expect(pageConnection(["live", "refused"])).toBe("offline");
    expect(pageConnection(["not_found", "live"])).toBe("live");
    expect(pageConnection(["not_found"])).toBe("offline");
  });
});

describe("time format", () => {
  it("shows heartbeat ages in whole seconds and never in the future", () => {
    expect(ago(10_000, 12_500)).toBe("2s ago");
    expect(ago(10_000, 9_000)).toBe("0s ago");
    expect(ago(0, 125_000)).toBe("2m ago");
  });

  it("shows latencies at a sensible unit", () => {
    expect(duration(850)).toBe("850ms");
    expect(duration(3_400)).toBe("3.4s");
    expect(duration(125_000)).toBe("2m 05s");
  });
});
