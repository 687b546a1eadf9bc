// Measures whether each real CLI honours the proxy variables: `node --import tsx
// test/real-clis/proxy-probe.ts [direct] [cli…]`. Each CLI is pointed at a base URL on a host that resolves
// nowhere (PROXY_ONLY_HOST), with HTTP_PROXY/HTTPS_PROXY/ALL_PROXY set to the scripted model server:
// a CLI that honours them reaches the model through the proxy and writes the file; one that does not
// fails to resolve the host. `direct` instead uses 127.0.0.1 with NO_PROXY, as the tests do, and shows
// what else each CLI tried to reach (docs/real-clis.md).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startModelServer } from "../model-server/model-server.ts";
import { PROXY_ONLY_HOST } from "../model-server/outbound-guard.ts";
import { writeThenSay } from "../model-server/scripted-turns.ts";
import { CLI_BIN, installClis } from "./install-clis.ts";
import { proxyEnv, SCRIPTED_TIERS, scriptedExecutors } from "./scripted-cli-setup.ts";

const direct = process.argv.includes("direct");
const only = process.argv.slice(2).filter((arg) => arg !== "direct");

/** Runs one CLI (stdin closed, 90 s at most) while the server keeps answering. */
function runFor(
  command: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command[0] ?? "", command.slice(1), { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr });
    });
  });
}
installClis();
const server = await startModelServer({ turns: writeThenSay("probe.txt", "through the proxy\n") });
const root = mkdtempSync(join(tmpdir(), "mesh-proxy-probe-"));
try {
  for (const { tier, cli } of SCRIPTED_TIERS.filter((entry) => only.length === 0 || only.includes(entry.cli))) {
    const dir = join(root, cli);
    const [home, config, work] = [join(dir, "home"), join(dir, "config"), join(dir, "work")];
    for (const made of [home, config, work]) mkdirSync(made, { recursive: true });
    execFileSync("git", ["init", "-q"], { cwd: work });
    const base = direct ? server.url : `http://${PROXY_ONLY_HOST}:${server.port}`;
    const spec = scriptedExecutors(base, config, home).executors[tier];
    if (spec === undefined) continue;
    const command = spec.command.map((part) => (part === "{prompt}" ? "Write probe.txt." : part));
    const env = {
      PATH: `${CLI_BIN}:${process.env.PATH ?? ""}`,
      HOME: home,
      ...spec.env,
      ...proxyEnv(server.url, direct),
    };
    const before = server.requests.length;
    const run = await runFor(command, work, env);
    const seen = server.requests
      .slice(before)
      .map(
        (request) =>
          `${request.method} ${request.path} ${request.answered}${request.viaProxy === true ? " (via proxy)" : ""}${request.host === undefined ? "" : ` host ${request.host}`}`,
      );
    console.log(`${cli}: exit ${run.status ?? run.signal}, wrote probe.txt: ${existsSync(join(work, "probe.txt"))}`);
    for (const line of seen) console.log(`  ${line}`);
    if (process.env.PROBE_STDERR === "1") console.log(run.stderr);
    if (run.status !== 0) console.log(`  stderr: ${run.stderr.split("\n").slice(-5).join(" | ")}`);
  }
} finally {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
}
