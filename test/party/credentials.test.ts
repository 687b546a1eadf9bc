import { describe, expect, it } from "vitest";
import { mintAttemptToken, verifyAttemptToken } from "../../party/auth/attempt-token.ts";
import { credentialName, identify, readSecrets } from "../../party/auth/credentials.ts";
import { sha256Hex } from "../../party/auth/signing.ts";
import { credentialAgentName, enrollmentTokens, secretsProblem } from "../../protocol/index.ts";

const orchestrator = "o".repeat(40);
const base = "b".repeat(40);
const env = {
  MESH_ORCHESTRATOR_TOKEN: orchestrator,
  MESH_AGENT_TOKEN: base,
  MESH_ENROLLMENT_TOKENS: JSON.stringify([
    { name: "fleet-december", token: "d".repeat(40), expires: "2026-12-31T00:00:00Z" },
    { name: "fleet-old", token: "e".repeat(40), expires: "2026-01-01T00:00:00Z" },
  ]),
};
const now = Date.parse("2026-12-03T00:00:00Z");

describe("agent identity: enrollment tokens, credentials, attempt tokens", () => {
  it("reads several named, expiring enrollment tokens and refuses a bad list with one line", () => {
    const tokens = enrollmentTokens(env);
    expect(tokens.ok && tokens.value.map((t) => t.name)).toEqual(["default", "fleet-december", "fleet-old"]);
    expect(secretsProblem({ ...env, MESH_ENROLLMENT_TOKENS: "[{" })).toMatch(/MESH_ENROLLMENT_TOKENS is not JSON/);
    expect(secretsProblem({ ...env, MESH_ENROLLMENT_TOKENS: JSON.stringify([{ name: "x", token: "short" }]) })).toMatch(
      /MESH_ENROLLMENT_TOKENS\[0\]\.token: .*32\+ characters/,
    );
    expect(
      secretsProblem({ ...env, MESH_ENROLLMENT_TOKENS: JSON.stringify([{ name: "default", token: "z".repeat(40) }]) }),
    ).toMatch(/names "default" twice/);
    expect("code" in readSecrets({ ...env, MESH_ENROLLMENT_TOKENS: "nope" })).toBe(true);
  });

  it("an enrollment token enrolls only until it expires; each is known by its name", async () => {
    const secrets = readSecrets(env);
    if ("code" in secrets) throw new Error(secrets.message);
    expect(await identify(base, secrets, now)).toEqual({ role: "agent", via: "enrollment", tokenName: "default" });
    const december = await identify("d".repeat(40), secrets, now);
    expect(december).toEqual({ role: "agent", via: "enrollment", tokenName: "fleet-december" });
    expect(await identify("d".repeat(40), secrets, Date.parse("2027-01-01T00:00:00Z"))).toBeNull();
    expect(await identify("e".repeat(40), secrets, now)).toBeNull();
    expect(december === null ? "" : credentialName(december)).toBe("enrollment:fleet-december");
  });

  it("an agent credential names its agent and travels as a hash, never as itself", async () => {
    const secrets = readSecrets(env);
    if ("code" in secrets) throw new Error(secrets.message);
    const credential = `mesh-agent:vm.one:${"k".repeat(43)}`;
    expect(credentialAgentName(credential)).toBe("vm.one");
    expect(credentialAgentName("mesh-agent:vm.one:short")).toBeNull();
    expect(credentialAgentName(`mesh-agent:bad name!:${"k".repeat(43)}`)).toBeNull();
    const caller = await identify(credential, secrets, now);
    expect(caller).toEqual({
      role: "agent",
      via: "credential",
      agent: "vm.one",
      credentialHash: await sha256Hex(credential),
    });
    expect(JSON.stringify(caller)).not.toContain("k".repeat(43));
  });

  it("an attempt token is bound to its task, attempt and agent, and cannot be altered", async () => {
    const token = await mintAttemptToken({ taskId: "01TASK", attempt: 2, agent: "mac.studio" }, orchestrator, now);
    expect(await verifyAttemptToken(token, orchestrator, now)).toEqual({
      taskId: "01TASK",
      attempt: 2,
      agent: "mac.studio",
    });
    expect(await verifyAttemptToken(token.replace(".2.", ".3."), orchestrator, now)).toBeNull();
    expect(await verifyAttemptToken(token.replace("mac.studio", "mac.other"), orchestrator, now)).toBeNull();
    expect(await verifyAttemptToken(token, "x".repeat(40), now)).toBeNull();
    expect(await verifyAttemptToken(token, orchestrator, now + 8 * 24 * 3600 * 1000)).toBeNull();
  });
});
