// `npm run server -- --port <port> --persist <dir>`: the mesh server alone, secrets and settings from the environment.
import { resolve } from "node:path";
import { readCommandLine, valueOrExit } from "./command-line.ts";
import { PROJECT_ROOT, startDevServer } from "./dev-server.ts";
import { checkListenPort } from "./listen-port.ts";
import { secretsFrom } from "./secrets-file.ts";
import { serverVarsOrExit } from "./server-vars.ts";

const USAGE =
  "usage: npm run server -- --port <port> --persist <dir> [--host <address>, default 127.0.0.1; 0.0.0.0 for agents on other machines] [--help] [--version]\nneeds MESH_ORCHESTRATOR_TOKEN and MESH_AGENT_TOKEN in the environment (npm start makes them for you); a port that is taken is refused, leaving what runs there untouched";
const values = readCommandLine("npm run server", USAGE, {
  port: { type: "string", default: "1999" },
  persist: { type: "string", default: ".mesh/state" },
  host: { type: "string", default: "127.0.0.1" },
});
const host = values.host ?? "127.0.0.1";
// A bad or taken port stops it before partykit starts, so whatever holds the port (another mesh among
// them) is left alone; another bind error (EACCES…) waits for the secrets check, which comes first.
const portChecked = await checkListenPort(host, values.port ?? "1999", "npm run server --");
if (!portChecked.ok && portChecked.error.code !== "cannot_listen") valueOrExit(portChecked);
// Never up and broken: a missing, empty or short secret is one line saying what to set, exit code 2 (docs/settings.md).
const secrets = valueOrExit(secretsFrom(process.env));
const vars = serverVarsOrExit(secrets);
const port = valueOrExit(portChecked);
const server = await startDevServer({
  port,
  persistDir: resolve(PROJECT_ROOT, values.persist ?? ".mesh/state"),
  vars,
  output: "inherit",
  host,
});
console.log(`agent-mesh server ready on ${server.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void server.stop().then(() => process.exit(0)));
}
server.process.on("exit", (code) => process.exit(code ?? 1));
