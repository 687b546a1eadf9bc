// `npm run server -- --port <port> --persist <dir>`: the mesh server alone, secrets and settings from the environment.
import { resolve } from "node:path";
import { PROJECT_ROOT, startDevServer } from "./dev-server.ts";
import { serverVarsOrExit } from "./server-vars.ts";
import { readCommandLine } from "./command-line.ts";
import { secretsProblem } from "../protocol/index.ts";

const USAGE = "usage: npm run server -- --port <port> --persist <dir> [--host <address>, default 127.0.0.1; 0.0.0.0 for agents on other machines] [--help] [--version]\nneeds MESH_ORCHESTRATOR_TOKEN and MESH_AGENT_TOKEN in the environment (npm start makes them for you)";
const values = readCommandLine("npm run server", USAGE, { port: { type: "string", default: "1999" }, persist: { type: "string", default: ".mesh/state" }, host: { type: "string", default: "127.0.0.1" } });
// Never up and broken (issue 14): one line saying what to set, exit code 2.
const secretsRefused = secretsProblem(process.env);
if (secretsRefused !== null) {
  console.error(`error: ${secretsRefused}`);
  process.exit(2);
}
const orchestrator = process.env.MESH_ORCHESTRATOR_TOKEN ?? "";
const agent = process.env.MESH_AGENT_TOKEN ?? "";
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`error: --port must be a TCP port, got '${values.port}'`);
  process.exit(2);
}
const vars = serverVarsOrExit({ MESH_ORCHESTRATOR_TOKEN: orchestrator, MESH_AGENT_TOKEN: agent });
const server = await startDevServer({
  port,
  persistDir: resolve(PROJECT_ROOT, values.persist ?? ".mesh/state"),
  vars,
  output: "inherit",
  host: values.host ?? "127.0.0.1",
});
console.log(`agent-mesh server ready on ${server.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void server.stop().then(() => process.exit(0)));
}
server.process.on("exit", (code) => process.exit(code ?? 1));
