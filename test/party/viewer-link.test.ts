import { describe, expect, it } from "vitest";
import { identify } from "../../party/auth/credentials.ts";
import { mintViewerLink, scopeAllowsTask, scopeSeesMesh, verifyViewerLink } from "../../party/auth/viewer-link.ts";

const secret = "orchestrator-secret-0123456789";
const secrets = { orchestratorToken: secret, enrollment: [{ name: "default", token: "agent-secret-0123456789" }] };

describe("viewer links", () => {
  it("verifies a link for its scope until it expires", async () => {
    const token = await mintViewerLink({ kind: "task", taskId: "01ABC" }, secret, 10_000);
    expect(await verifyViewerLink(token, secret, 9_000)).toEqual({ kind: "task", taskId: "01ABC" });
    expect(await verifyViewerLink(token, secret, 10_000)).toBeNull();
  });

  it("refuses a tampered link, one signed with another secret, and garbage", async () => {
    const token = await mintViewerLink({ kind: "task", taskId: "01ABC" }, secret, 10_000);
    expect(await verifyViewerLink(token.replace("01ABC", "01ABD"), secret, 0)).toBeNull();
    expect(await verifyViewerLink(token, "another-secret-0123456789", 0)).toBeNull();
    expect(await verifyViewerLink("v1.dashboard.notanumber.sig", secret, 0)).toBeNull();
    expect(await verifyViewerLink("", secret, 0)).toBeNull();
  });

  it("lets a task link watch only its task, and dashboard and operator links any task and the whole mesh", async () => {
    expect(scopeAllowsTask({ kind: "task", taskId: "A" }, "A")).toBe(true);
    expect(scopeAllowsTask({ kind: "task", taskId: "A" }, "B")).toBe(false);
    expect(scopeAllowsTask({ kind: "dashboard" }, "B")).toBe(true);
    expect(scopeSeesMesh({ kind: "task", taskId: "A" })).toBe(false);
    expect(scopeSeesMesh({ kind: "operator" })).toBe(true);
    const operator = await mintViewerLink({ kind: "operator" }, secret, 10_000);
    expect(await verifyViewerLink(operator, secret, 0)).toEqual({ kind: "operator" });
    expect(await verifyViewerLink(operator.replace("operator", "dashboard"), secret, 0)).toBeNull();
  });

  it("tells the orchestrator, an agent, a viewer and a stranger apart", async () => {
    const link = await mintViewerLink({ kind: "dashboard" }, secret, Date.now() + 60_000);
    expect(await identify(secret, secrets, Date.now())).toEqual({ role: "orchestrator" });
    expect(await identify("agent-secret-0123456789", secrets, Date.now())).toEqual({
      role: "agent",
      via: "enrollment",
      tokenName: "default",
    });
    expect(await identify(link, secrets, Date.now())).toEqual({ role: "viewer", scope: { kind: "dashboard" } });
    expect(await identify("wrong", secrets, Date.now())).toBeNull();
    expect(await identify(null, secrets, Date.now())).toBeNull();
  });
});
