import { describe, expect, it } from "vitest";
import { checkSettings, serverVars } from "../../launcher/server-vars.ts";
import { metricsTokenProblem } from "../../protocol/metrics.ts";

describe("MESH_METRICS_TOKEN", () => {
  const secrets = { MESH_ORCHESTRATOR_TOKEN: "o".repeat(40), MESH_AGENT_TOKEN: "a".repeat(40) };

  it("is passed on to the server when set, and left out when not", () => {
    expect(serverVars(secrets, { MESH_METRICS_TOKEN: "m".repeat(32) }).MESH_METRICS_TOKEN).toBe("m".repeat(32));
    expect(serverVars(secrets, {}).MESH_METRICS_TOKEN).toBeUndefined();
  });

  it("stops the server at start, in one line, when it is shorter than the other secrets", () => {
    expect(metricsTokenProblem(undefined)).toBeNull();
    expect(metricsTokenProblem("m".repeat(32))).toBeNull();
    expect(checkSettings({ MESH_METRICS_TOKEN: "short" })).toMatchObject({
      ok: false,
      error: {
        code: "metrics_token_invalid",
        message: expect.stringMatching(
          /^MESH_METRICS_TOKEN is 5 characters; set it to a random secret of 32\+ characters/,
        ),
      },
    });
    expect(checkSettings({ MESH_METRICS_TOKEN: "m".repeat(40) })).toEqual({ ok: true, value: undefined });
  });
});
