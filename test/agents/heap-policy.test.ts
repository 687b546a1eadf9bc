// The agent's heap policy (docs/memory.md, "The agent") holds however the agent is started: the
// built bundle (what `npm run agent`, the launcher and the service files run) and the `mesh-agent`
// bin keep V8's young generation at its first size under a burst of allocation and never use the
// optimizing compiler (unless ws has no native masking); a plain node does both (so the test can fail).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { buildAgentOnce } from "../integration/mesh-harness.ts";

/** Loaded before the program; as the process exits, it allocates like a burst of work and reports. */
const PROBE = `
import { getHeapSpaceStatistics } from "node:v8";
process.on("exit", () => {
  const keep = [];
  for (let round = 0; round < 100; round++) {
    const garbage = [];
    for (let i = 0; i < 10_000; i++) garbage.push({ i });
    keep.push(garbage.length);
  }
  // As a hot function would be: V8 is asked to optimize it at its next call.
  const hot = (x) => x + 1;
  const natives = new Function("f", "%PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3); return %GetOptimizationStatus(f);");
  const status = natives(hot);
  const sum = hot(0);
  const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
  process.stderr.write("HEAP " + JSON.stringify({ young: young.space_size, optimized: (status & 16) !== 0, sum }) + "\\n");
});
`;

type Report = { young: number; optimized: boolean };

let dir = "";
beforeAll(() => {
  buildAgentOnce();
  dir = mkdtempSync(join(tmpdir(), "mesh-heap-policy-"));
  writeFileSync(join(dir, "probe.mjs"), PROBE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(program: string[], env: NodeJS.ProcessEnv = {}): Report {
  const result = spawnSync(
    process.execPath,
    ["--allow-natives-syntax", "--import", join(dir, "probe.mjs"), ...program],
    { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 },
  );
  const line = result.stderr.split("\n").find((text) => text.startsWith("HEAP "));
  if (line === undefined) throw new Error(`no report (exit ${String(result.status)}):\n${result.stderr}`);
  return JSON.parse(line.slice("HEAP ".length)) as Report;
}

const ONE_MIB = 1024 * 1024;

describe("the agent's heap policy", () => {
  it("plain node grows its young generation and optimizes a hot function", () => {
    const report = run(["-e", "0"]);
    expect(report.young).toBeGreaterThan(2 * ONE_MIB);
    expect(report.optimized).toBe(true);
  });

  it.each([
    ["the built agent (npm run agent, the launcher, the services)", ["dist/mesh-agent.js", "--help"]],
    ["the mesh-agent bin", ["bin/mesh-agent.mjs", "--help"]],
  ])("holds in %s", (_how, program) => {
    const report = run(program);
    // Two halves of 1 MiB: the first size, not grown.
    expect(report.young).toBeLessThanOrEqual(2 * ONE_MIB);
    expect(report.optimized).toBe(false);
  });

  it("keeps the optimizer when ws masks frames in JavaScript (no bufferutil), the young generation still held", () => {
    const report = run(["dist/mesh-agent.js", "--help"], { WS_NO_BUFFER_UTIL: "1" });
    expect(report.young).toBeLessThanOrEqual(2 * ONE_MIB);
    expect(report.optimized).toBe(true);
  });
});
