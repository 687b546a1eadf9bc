import { statSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AgentHello } from "../../protocol/index.ts";
import { DEFAULT_LIMITS, type LimitSettings } from "./process-limits.ts";
import { CREDENTIAL_FILE, readCredential } from "./agent-credential.ts";

export type AgentKind = "vm" | "mac";

/** Everything an agent needs to start, read from its flags and environment. */
export interface AgentOptions {
  kind: AgentKind;
  /** The mesh's base URL (http: or https:). */
  server: URL;
  name: string;
  executorsPath: string;
  /** Attempts run at once. */
  capacity: number;
  /** The cwd of a task that names none. */
  workdir: string;
  /** The enrollment token (MESH_AGENT_TOKEN); absent when the agent already holds its own credential. */
  enrollmentToken?: string;
  /** A prices file overriding the built-in rates (`--rates`). */
  ratesPath?: string;
  /** Resource limits for every child. */
  limits: LimitSettings;
  /** What the agent keeps between runs (`--state-dir`; INTERFACES.md "Work isolation and results"). */
  stateDir: string;
  /** Where attempts' git worktrees live (`--worktrees`), never inside a user's repository. */
  worktreesDir: string;
  /** Hours a winning attempt's worktree stays for inspection when it is not applied (`--keep-worktrees-h`). */
  keepWorktreesH: number;
}

/** What an entry point may fill in when its flag is absent. */
export interface AgentOptionDefaults {
  kind?: AgentKind;
  executorsPath?: string;
}

export type AgentOptionsResult =
  | { status: "ok"; options: AgentOptions }
  | { status: "help"; usage: string }
  | { status: "error"; message: string };

export const AGENT_USAGE = `Usage: mesh-agent --kind vm|mac --server <base URL> [options]

Runs coding CLIs for an agent mesh. The token comes from the environment: MESH_AGENT_TOKEN.

  --kind vm|mac         which kind of agent this is (required)
  --server <url>        the mesh's base URL, e.g. http://127.0.0.1:1999 (required)
  --executors <file>    the executors file: tier id -> command
                        (default: agents/vm/executors.json or agents/mac/executors.json)
  --name <name>         unique agent name (default: this host's name)
  --capacity <n>        attempts run at once, 1-64 (default 1)
  --workdir <dir>       cwd of tasks that name none (default: the current directory)
  --rates <file>        prices per model for CLIs that report no cost (see agents/README.md)
  --memory-mb <n>       memory limit for each child, in MB; 0 = none (default ${DEFAULT_LIMITS.memoryMb})
  --max-procs <n>       processes per run; 0 = none (default ${DEFAULT_LIMITS.maxProcs}; needs systemd or --run-as)
  --cpu-s <n>           CPU seconds per process; 0 = none (default ${DEFAULT_LIMITS.cpuS})
  --run-as <user>       run children as this user (the agent must run as root)
  --state-dir <dir>     what the agent keeps between runs (default ~/.agent-mesh/<name>)
  --worktrees <dir>     where attempts' git worktrees live (default <state dir>/worktrees)
  --keep-worktrees-h <n>  hours a winner's worktree stays when not applied (default 24)
  --help                print this help
`;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A host name made into a valid agent name: other characters become '-'. */
export function defaultAgentName(host: string = hostname()): string {
  const cleaned = host.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64);
  return cleaned.length > 0 ? cleaned : "agent";
}

/** Reads the agent's flags and token. Never throws: a bad flag comes back as a message saying what to do. */
export function parseAgentOptions(argv: readonly string[], env: NodeJS.ProcessEnv, defaults: AgentOptionDefaults = {}): AgentOptionsResult {
  if (argv.some((arg) => arg === "--token" || arg.startsWith("--token="))) {
    return error("--token is not accepted: put the agent token in the environment variable MESH_AGENT_TOKEN");
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        kind: { type: "string" },
        server: { type: "string" },
        name: { type: "string" },
        executors: { type: "string" },
        capacity: { type: "string" },
        workdir: { type: "string" },
        rates: { type: "string" },
        "state-dir": { type: "string" },
        worktrees: { type: "string" },
        "keep-worktrees-h": { type: "string" },
        "memory-mb": { type: "string" },
        "max-procs": { type: "string" },
        "cpu-s": { type: "string" },
        "run-as": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return error(`${detail}\nRun with --help for the options.`);
  }
  if (values.help === true) return { status: "help", usage: AGENT_USAGE };
  const text = (key: string): string | undefined => {
    const value = values[key];
    return typeof value === "string" ? value : undefined;
  };

  const kind = text("kind") ?? defaults.kind;
  if (kind === undefined) return error("--kind is required: --kind vm or --kind mac");
  if (kind !== "vm" && kind !== "mac") return error(`--kind '${kind}' is not a kind: use vm or mac`);
  if (defaults.kind !== undefined && kind !== defaults.kind) {
    return error(`--kind ${kind} was given to the ${defaults.kind} agent; run it with --kind ${defaults.kind}`);
  }

  const serverText = text("server");
  if (serverText === undefined) return error("--server is required: the mesh's base URL, e.g. --server http://127.0.0.1:1999");
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    return error(`--server '${serverText}' is not a URL: give the mesh's base URL, e.g. http://127.0.0.1:1999`);
  }
  if (server.protocol !== "http:" && server.protocol !== "https:") {
    return error(`--server '${serverText}' must start with http:// or https://`);
  }

  const name = text("name") ?? defaultAgentName();
  if (!NAME_PATTERN.test(name)) {
    return error(`--name '${name}' is not a valid agent name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }

  const executorsPath = text("executors") ?? defaults.executorsPath;
  if (executorsPath === undefined) return error("--executors is required: the path of the executors JSON file (tier id -> command)");

  const limits: LimitSettings = { ...DEFAULT_LIMITS };
  for (const [flag, key] of [["memory-mb", "memoryMb"], ["max-procs", "maxProcs"], ["cpu-s", "cpuS"]] as const) {
    const given = text(flag);
    if (given === undefined) continue;
    if (!/^\d{1,9}$/.test(given)) return error(`--${flag} '${given}' must be a whole number (0 turns the limit off)`);
    limits[key] = Number(given);
  }
  const runAs = text("run-as");
  if (runAs !== undefined) limits.runAs = runAs;
  const ratesPath = text("rates");

  const capacityText = text("capacity") ?? "1";
  const capacity = Number(capacityText);
  const capacityLimit = AgentHello.shape.capacity.maxValue ?? 64;
  if (!/^\d+$/.test(capacityText) || capacity < 1 || capacity > capacityLimit) {
    return error(`--capacity '${capacityText}' must be a whole number from 1 to ${capacityLimit}`);
  }

  const workdir = resolve(text("workdir") ?? process.cwd());
  if (!isDirectory(workdir)) return error(`--workdir '${workdir}' is not a directory: give an existing directory`);

  const stateDir = resolve(text("state-dir") ?? join(env.HOME ?? homedir(), ".agent-mesh", name));
  const worktreesDir = resolve(text("worktrees") ?? join(stateDir, "worktrees"));
  const keepText = text("keep-worktrees-h") ?? "24";
  if (!/^\d{1,6}(\.\d+)?$/.test(keepText)) return error(`--keep-worktrees-h '${keepText}' must be a number of hours, e.g. 24`);

  const token = env.MESH_AGENT_TOKEN;
  const enrolled = readCredential(join(stateDir, CREDENTIAL_FILE), server, name) !== undefined;
  if ((token === undefined || token.length === 0) && !enrolled) {
    return error(`MESH_AGENT_TOKEN is not set and ${join(stateDir, CREDENTIAL_FILE)} holds no credential for this mesh: export the mesh's agent (enrollment) token, which the server prints when it starts, and run again`);
  }

  return {
    status: "ok",
    options: {
      kind,
      server,
      name,
      executorsPath: resolve(executorsPath),
      capacity,
      workdir,
      ...(token === undefined || token.length === 0 ? {} : { enrollmentToken: token }),
      limits,
      stateDir,
      worktreesDir,
      keepWorktreesH: Number(keepText),
      ...(ratesPath === undefined ? {} : { ratesPath: resolve(ratesPath) }),
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function error(message: string): AgentOptionsResult {
  return { status: "error", message };
}
