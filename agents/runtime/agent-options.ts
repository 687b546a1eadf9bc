import { readFileSync, statSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AGENT_NAME_PATTERN, AgentHello, type Result } from "../../protocol/index.ts";
import { type CredentialStart, credentialStart } from "./agent-credential.ts";
import { DEFAULT_LIMITS, type LimitSettings } from "./process-limits.ts";
import { WARM_WORKTREES_DEFAULT, WARM_WORKTREES_MAX } from "./warm-worktree-pool.ts";

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
  /** Its own credential for this mesh and name, else the enrollment token (MESH_AGENT_TOKEN): one at least. */
  credential: CredentialStart;
  /** A prices file overriding the built-in rates (`--rates`). */
  ratesPath?: string;
  /** Resource limits for every child. */
  limits: LimitSettings;
  /** What the agent keeps between runs (`--state-dir`; docs/work-isolation.md). */
  stateDir: string;
  /** Where attempts' git worktrees live (`--worktrees`), never inside a user's repository. */
  worktreesDir: string;
  /** Hours a winning attempt's worktree stays for inspection when it is not applied (`--keep-worktrees-h`). */
  keepWorktreesH: number;
  /** Spare worktrees kept per repository for the next attempt (`--warm-worktrees`; 0 turns them off). */
  warmWorktrees: number;
}

/** What an entry point may fill in when its flag is absent. */
export interface AgentOptionDefaults {
  kind?: AgentKind;
  executorsPath?: string;
}

/**
 * Why the flags, the config file or the environment cannot start the agent (the message says what to do):
 * `bad_flag` an unknown or malformed flag (or --token), `bad_config` a --config file that is not one,
 * `missing_flag` a required flag, `bad_value` a value out of its range, `no_credential` neither a token nor
 * a credential of its own.
 */
export type AgentOptionsRefusal = {
  code: "bad_flag" | "bad_config" | "missing_flag" | "bad_value" | "no_credential";
  message: string;
};

/** What the command line asks: run with these options, or print the usage. */
export type AgentStart = { action: "run"; options: AgentOptions } | { action: "help"; usage: string };

export type AgentOptionsResult = Result<AgentStart, AgentOptionsRefusal>;

export const AGENT_USAGE = `Usage: mesh-agent --kind vm|mac --server <base URL> [options]

Runs coding CLIs for an agent mesh. The token comes from the environment: MESH_AGENT_TOKEN.

  --kind vm|mac         which kind of agent this is (required)
  --server <url>        the mesh's base URL, e.g. http://127.0.0.1:1999 (required)
  --executors <file>    the executors file: tier id -> command
                        (default: agents/vm/executors.json or agents/mac/executors.json)
  --name <name>         unique agent name (default: this host's name)
  --capacity <n>        attempts run at once, 1-64 (default 1)
  --workdir <dir>       unused: a task naming neither cwd nor repo runs in a new empty directory under the state directory
  --rates <file>        prices per model for CLIs that report no cost (see agents/README.md)
  --memory-mb <n>       memory limit for each child, in MB; 0 = none (default ${DEFAULT_LIMITS.memoryMb})
  --max-procs <n>       processes per run; 0 = none (default ${DEFAULT_LIMITS.maxProcs}; needs systemd or --run-as)
  --cpu-s <n>           CPU seconds per process; 0 = none (default ${DEFAULT_LIMITS.cpuS})
  --run-as <user>       run children as this user (the agent must run as root)
  --state-dir <dir>     what the agent keeps between runs (default ~/.agent-mesh/<name>)
  --worktrees <dir>     where attempts' git worktrees live (default <state dir>/worktrees)
  --keep-worktrees-h <n>  hours a winner's worktree stays when not applied (default 24)
  --warm-worktrees <n>  spare worktrees kept per repository so the next attempt's checkout
                        writes only what changed, 0-${WARM_WORKTREES_MAX}; 0 = none (default ${WARM_WORKTREES_DEFAULT})
  --config <file>       a JSON file with any of these settings by flag name, e.g.
                        {"kind": "vm", "server": "http://mesh:1999", "capacity": 2};
                        flags given on the command line win; paths are relative to the file
  --help                print this help
  --version             print the agent's version
`;

/** The agent's flags (each also a key of the `--config` file, but `config` itself). */
export const AGENT_FLAGS = {
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
  "warm-worktrees": { type: "string" },
  "memory-mb": { type: "string" },
  "max-procs": { type: "string" },
  "cpu-s": { type: "string" },
  "run-as": { type: "string" },
  config: { type: "string" },
} as const;

/** Settings that are paths: in a config file they are relative to the file's folder. */
const PATH_SETTINGS = new Set(["executors", "workdir", "rates", "state-dir", "worktrees"]);

/**
 * The settings of `--config <file>` under the flags of the command line (docs/settings.md): one
 * settings file for a service, the same names as the flags. Never the token: it stays in the
 * environment (MESH_AGENT_TOKEN), where a service's 0600 environment file puts it.
 */
export function withConfigFile(
  flags: Readonly<Record<string, string | boolean | undefined>>,
): Result<Record<string, string | boolean | undefined>, AgentOptionsRefusal> {
  const file = flags.config;
  if (typeof file !== "string") return { ok: true, value: { ...flags } };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    return refuse(
      "bad_config",
      `--config '${file}' could not be read as JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    return refuse(
      "bad_config",
      `--config '${file}' must hold a JSON object of settings by flag name, e.g. {"kind": "vm"}`,
    );
  const values: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === "token")
      return refuse(
        "bad_config",
        `--config '${file}': the token is not a setting; put it in the environment variable MESH_AGENT_TOKEN`,
      );
    if (!(key in AGENT_FLAGS) || key === "config")
      return refuse("bad_config", `--config '${file}': '${key}' is not a setting; use the flags' names (see --help)`);
    if (typeof value !== "string" && typeof value !== "number")
      return refuse("bad_config", `--config '${file}': '${key}' must be a string or a number`);
    values[key] = PATH_SETTINGS.has(key) ? resolve(dirname(resolve(file)), String(value)) : String(value);
  }
  for (const [key, value] of Object.entries(flags)) if (value !== undefined && key !== "config") values[key] = value;
  return { ok: true, value: values };
}

/** A host name made into a valid agent name: other characters become '-'. */
export function defaultAgentName(host: string = hostname()): string {
  const cleaned = host
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64);
  return cleaned.length > 0 ? cleaned : "agent";
}

/** Reads the agent's flags and token. Never throws: a bad flag comes back as a message saying what to do. */
export function parseAgentOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  defaults: AgentOptionDefaults = {},
): AgentOptionsResult {
  if (argv.some((arg) => arg === "--token" || arg.startsWith("--token="))) {
    return refuse(
      "bad_flag",
      "--token is not accepted: put the agent token in the environment variable MESH_AGENT_TOKEN",
    );
  }
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: [...argv],
      options: { ...AGENT_FLAGS, help: { type: "boolean", short: "h" }, version: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return refuse("bad_flag", `${detail}\nRun with --help for the options.`);
  }
  if (flags.help === true) return { ok: true, value: { action: "help", usage: AGENT_USAGE } };
  const configured = withConfigFile(flags);
  if (!configured.ok) return configured;
  const values = configured.value;
  const text = (key: string): string | undefined => {
    const value = values[key];
    return typeof value === "string" ? value : undefined;
  };

  const kind = text("kind") ?? defaults.kind;
  if (kind === undefined) return refuse("missing_flag", "--kind is required: --kind vm or --kind mac");
  if (kind !== "vm" && kind !== "mac") return refuse("bad_value", `--kind '${kind}' is not a kind: use vm or mac`);
  if (defaults.kind !== undefined && kind !== defaults.kind) {
    return refuse(
      "bad_value",
      `--kind ${kind} was given to the ${defaults.kind} agent; run it with --kind ${defaults.kind}`,
    );
  }

  const serverText = text("server");
  if (serverText === undefined)
    return refuse("missing_flag", "--server is required: the mesh's base URL, e.g. --server http://127.0.0.1:1999");
  let server: URL;
  try {
    server = new URL(serverText);
  } catch {
    return refuse(
      "bad_value",
      `--server '${serverText}' is not a URL: give the mesh's base URL, e.g. http://127.0.0.1:1999`,
    );
  }
  if (server.protocol !== "http:" && server.protocol !== "https:") {
    return refuse("bad_value", `--server '${serverText}' must start with http:// or https://`);
  }

  const name = text("name") ?? defaultAgentName();
  if (!AGENT_NAME_PATTERN.test(name)) {
    return refuse(
      "bad_value",
      `--name '${name}' is not a valid agent name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }

  const executorsPath = text("executors") ?? defaults.executorsPath;
  if (executorsPath === undefined)
    return refuse("missing_flag", "--executors is required: the path of the executors JSON file (tier id -> command)");

  const limits: LimitSettings = { ...DEFAULT_LIMITS };
  for (const [flag, key] of [
    ["memory-mb", "memoryMb"],
    ["max-procs", "maxProcs"],
    ["cpu-s", "cpuS"],
  ] as const) {
    const given = text(flag);
    if (given === undefined) continue;
    if (!/^\d{1,9}$/.test(given))
      return refuse("bad_value", `--${flag} '${given}' must be a whole number (0 turns the limit off)`);
    limits[key] = Number(given);
  }
  const runAs = text("run-as");
  if (runAs !== undefined) limits.runAs = runAs;
  const ratesPath = text("rates");

  const capacityText = text("capacity") ?? "1";
  const capacity = Number(capacityText);
  const capacityLimit = AgentHello.shape.capacity.maxValue ?? 64;
  if (!/^\d+$/.test(capacityText) || capacity < 1 || capacity > capacityLimit) {
    return refuse("bad_value", `--capacity '${capacityText}' must be a whole number from 1 to ${capacityLimit}`);
  }

  const workdir = resolve(text("workdir") ?? process.cwd());
  if (!isDirectory(workdir))
    return refuse("bad_value", `--workdir '${workdir}' is not a directory: give an existing directory`);

  const stateDir = resolve(text("state-dir") ?? join(env.HOME ?? homedir(), ".agent-mesh", name));
  const worktreesDir = resolve(text("worktrees") ?? join(stateDir, "worktrees"));
  const keepText = text("keep-worktrees-h") ?? "24";
  if (!/^\d{1,6}(\.\d+)?$/.test(keepText))
    return refuse("bad_value", `--keep-worktrees-h '${keepText}' must be a number of hours, e.g. 24`);
  const warmText = text("warm-worktrees") ?? String(WARM_WORKTREES_DEFAULT);
  if (!/^\d{1,3}$/.test(warmText) || Number(warmText) > WARM_WORKTREES_MAX)
    return refuse(
      "bad_value",
      `--warm-worktrees '${warmText}' must be a whole number from 0 to ${WARM_WORKTREES_MAX} (0 turns spare worktrees off)`,
    );

  // A missing or empty token with no credential of its own stops the agent here (docs/agent-identity.md).
  const credential = credentialStart(stateDir, server, name, env.MESH_AGENT_TOKEN);
  if (!credential.ok) return credential;

  return {
    ok: true,
    value: {
      action: "run",
      options: {
        kind,
        server,
        name,
        executorsPath: resolve(executorsPath),
        capacity,
        workdir,
        credential: credential.value,
        limits,
        stateDir,
        worktreesDir,
        keepWorktreesH: Number(keepText),
        warmWorktrees: Number(warmText),
        ...(ratesPath === undefined ? {} : { ratesPath: resolve(ratesPath) }),
      },
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

function refuse(code: AgentOptionsRefusal["code"], message: string): Result<never, AgentOptionsRefusal> {
  return { ok: false, error: { code, message } };
}
