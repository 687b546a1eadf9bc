import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "./dev-server.ts";

export type AgentProcessOptions = {
  server: string;
  name: string;
  kind: "mac" | "vm";
  executorsFile: string;
  agentToken: string;
  capacity?: number;
  /** More agent flags (limits, --rates, --run-as). */
  args?: readonly string[];
  /** Where the agent's log lines go. */
  onLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
};

/**
 * The built agent (`npm run build` compiles agents/cli.ts to it): what `npm run agent` and the `mesh-agent` bin run.
 */
export const BUILT_AGENT = join(PROJECT_ROOT, "dist/mesh-agent.js");

/**
 * Starts a real agent process (the built agent, plain Node) in its own process group, the same
 * program `npm run agent` runs. Stop it with `stopGroup`. No V8 flags here: the bundle sets its own
 * heap policy as it loads (docs/memory.md), so this agent holds what a user's agent holds.
 */
export function startAgentProcess(options: AgentProcessOptions): ChildProcess {
  const args = [
    BUILT_AGENT,
    "--kind",
    options.kind,
    "--server",
    options.server,
    "--name",
    options.name,
    "--executors",
    options.executorsFile,
  ];
  if (options.capacity !== undefined) args.push("--capacity", String(options.capacity));
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env, MESH_AGENT_TOKEN: options.agentToken },
  });
  const forward = (chunk: Buffer): void => {
    for (const line of chunk.toString().split("\n")) if (line.length > 0) options.onLine?.(line);
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  return child;
}
