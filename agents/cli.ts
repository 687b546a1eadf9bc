// `npm run agent -- --kind vm|mac --server <url> --name <name> --executors <file.json>`; also the `mesh-agent` bin.
import { readCommandLine } from "../launcher/command-line.ts";
import { runMacAgent } from "./mac/mac-agent.ts";
import type { AgentLaunch } from "./runtime/agent-entry.ts";
import { AGENT_FLAGS, AGENT_USAGE, withConfigFile } from "./runtime/agent-options.ts";
import { runVmAgent } from "./vm/vm-agent.ts";

const argv = process.argv.slice(2);
// --help, --version and unknown flags are answered here; the entry point checks every value.
const flags = readCommandLine("mesh-agent", AGENT_USAGE, AGENT_FLAGS, argv);
// The kind may come from --config.
const configured = withConfigFile(flags);

async function launch(): Promise<AgentLaunch> {
  if (!configured.ok) {
    process.stderr.write(`mesh-agent: ${configured.error.message}\n`);
    return { status: "exited", code: 2 };
  }
  const kind = configured.value.kind;
  if (kind === "vm") return runVmAgent(argv);
  if (kind === "mac") return runMacAgent(argv);
  const given = typeof kind === "string" ? `--kind '${kind}' is not a kind` : "--kind is required";
  process.stderr.write(`mesh-agent: ${given}: use --kind vm or --kind mac (see --help)\n`);
  return { status: "exited", code: 2 };
}

const launched = await launch();
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
