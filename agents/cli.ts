// `npm run agent -- --kind vm|mac --server <url> --name <name> --executors <file.json>`; also the `mesh-agent` bin.
import { parseArgs } from "node:util";
import { runMacAgent } from "./mac/mac-agent.ts";
import { AGENT_USAGE } from "./runtime/agent-options.ts";
import type { AgentLaunch } from "./runtime/agent-entry.ts";
import { runVmAgent } from "./vm/vm-agent.ts";

const argv = process.argv.slice(2);
// Only --kind is read here; the entry point parses (and checks) every flag.
const { values } = parseArgs({ args: argv, options: { kind: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: false });

function launch(): AgentLaunch {
  if (values.kind === "vm") return runVmAgent(argv);
  if (values.kind === "mac") return runMacAgent(argv);
  if (values.help === true) {
    process.stdout.write(AGENT_USAGE);
    return { status: "exited", code: 0 };
  }
  const given = typeof values.kind === "string" ? `--kind '${values.kind}' is not a kind` : "--kind is required";
  process.stderr.write(`mesh-agent: ${given}: use --kind vm or --kind mac (see --help)\n`);
  return { status: "exited", code: 2 };
}

const launched = launch();
if (launched.status === "exited") {
  process.exit(launched.code);
} else {
  let signals = 0;
  const shutDown = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // A second signal: stop waiting; the exit hook still kills the children's groups.
      process.exit(1);
    }
    process.stderr.write(`mesh-agent: ${signal}: stopping running attempts\n`);
    void launched.agent.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", shutDown);
  process.on("SIGTERM", shutDown);
}
