import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { signalGroup } from "../agents/runtime/process-group-signal.ts";
import { localUrl } from "./listen-port.ts";
import { type PartykitConfig, readPartykitConfig } from "./partykit-config.ts";
import { partykitBinWithHost } from "./partykit-host.ts";

/** The project root: partykit.json lives there. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export type DevServerOptions = {
  port: number;
  /** Where room storage persists; keep it outside the project tree (the dev server restarts on changes inside it). */
  persistDir: string;
  /** Server vars: the two secrets and settings such as MESH_HEARTBEAT_S. */
  vars: Record<string, string>;
  /** Where the server's output goes; default: discarded unless it fails to start. */
  output?: "inherit" | "pipe";
  /** How long to wait for /health. */
  readyTimeoutMs?: number;
  /** The address to listen on; 127.0.0.1 unless told otherwise (docs/settings.md). */
  host?: string;
  /**
   * Whether partykit bundles the page (web/src, Mermaid and diff2html among it) as it starts; default
   * true. Test servers no browser opens skip it: about 2 s of two cores per start.
   */
  buildPage?: boolean;
};

export type DevServer = { url: string; process: ChildProcess; stop(): Promise<void> };

/**
 * The partykit CLI, run with this Node directly: killing an npx wrapper can leave workerd behind. The
 * copy that listens where it is told (partykit-host.ts), else the original, which listens on 0.0.0.0.
 */
function partykitBin(): string {
  // The package exports no subpath for its CLI (nor a `require` condition), so take it from node_modules.
  const dist = join(PROJECT_ROOT, "node_modules/partykit/dist");
  const chosen = partykitBinWithHost(dist);
  if (chosen === undefined)
    console.warn("warning: this partykit version's listen address could not be set; the dev server listens on 0.0.0.0");
  return chosen ?? join(dist, "bin.mjs");
}

/**
 * Starts `partykit dev` (workerd) in its own process group and waits until `/health` answers.
 * `stop()` ends the whole group: SIGTERM, then SIGKILL if it lingers.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  // The vars (secrets among them) go in a config file only this user can read, never on a command
  // line where `ps` shows them to every local user (docs/settings.md).
  const configDir = mkdtempSync(join(tmpdir(), "mesh-dev-config-"));
  const configFile = join(configDir, "partykit.json");
  // Where this server's page answers, for links the rooms make (notifications' operator links; MESH_PUBLIC_URL wins).
  // localUrl brackets an IPv6 host and reaches a wildcard address on loopback.
  const url = localUrl(options.host ?? "127.0.0.1", options.port);
  writeFileSync(
    configFile,
    JSON.stringify(devConfig({ MESH_LOCAL_URL: url, ...options.vars }, options.buildPage ?? true)),
    { mode: 0o600 },
  );
  const args = [
    partykitBin(),
    "dev",
    "--config",
    configFile,
    "--port",
    String(options.port),
    "--persist",
    options.persistDir,
    "--no-hotkeys",
    "--disable-request-cf-fetch",
  ];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: [
      "ignore",
      options.output === "inherit" ? "inherit" : "pipe",
      options.output === "inherit" ? "inherit" : "pipe",
    ],
    env: {
      ...process.env,
      PARTYKIT_TELEMETRY_DISABLED: "1",
      DO_NOT_TRACK: "1",
      MESH_DEV_HOST: options.host ?? "127.0.0.1",
    },
  });
  let captured = "";
  const capture = (chunk: Buffer): void => {
    captured = (captured + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const reaper = startGroupReaper(child, configDir);
  const stop = async (): Promise<void> => {
    await stopGroup(child);
    reaper?.stdin?.end();
    rmSync(configDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`partykit dev exited with code ${child.exitCode} before it was ready:\n${captured}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return { url, process: child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  await stop();
  throw new Error(
    `partykit dev did not answer ${url}/health within ${options.readyTimeoutMs ?? 60_000} ms:\n${captured}`,
  );
}

/**
 * partykit.json with the vars added and every path made absolute (partykit reads a config's paths from the config's
 * folder).
 */
function devConfig(vars: Record<string, string>, buildPage: boolean): PartykitConfig {
  const config = readPartykitConfig(PROJECT_ROOT);
  const at = (path: string | undefined): string | undefined =>
    path === undefined ? undefined : resolve(PROJECT_ROOT, path);
  return {
    ...config,
    main: resolve(PROJECT_ROOT, config.main),
    ...(config.parties === undefined
      ? {}
      : {
          parties: Object.fromEntries(
            Object.entries(config.parties).map(([name, path]) => [name, resolve(PROJECT_ROOT, path)]),
          ),
        }),
    ...(config.serve === undefined
      ? {}
      : {
          serve: {
            path: at(config.serve.path),
            ...(config.serve.build === undefined || !buildPage
              ? {}
              : {
                  build: {
                    ...config.serve.build,
                    entry: at(config.serve.build.entry),
                    outdir: at(config.serve.build.outdir),
                  },
                }),
          },
        }),
    vars: { ...config.vars, ...vars },
    // partykit dev adds nodejs_compat itself, and workerd refuses a flag given twice; deploy sends only
    // partykit.json's flags, so the file names it for production (launcher/production-bundle.ts).
    compatibilityFlags: (config.compatibilityFlags ?? []).filter((flag) => flag !== "nodejs_compat"),
  };
}

/**
 * The dev server ends when its launcher ends, even by SIGKILL (docs/command-line.md): a tiny `sh` holds a pipe
 * from the launcher and, when the pipe closes (the launcher is gone, however it went), ends the dev
 * server's process group (partykit's node and workerd under it). Nothing here keeps the launcher alive.
 */
function startGroupReaper(child: ChildProcess, configDir: string): ChildProcess | undefined {
  const group = child.pid;
  if (group === undefined) return undefined;
  // The config folder (it holds the secrets) goes with it; its path is passed as $0, never interpolated.
  const reaper = spawn(
    "sh",
    [
      "-c",
      `cat >/dev/null; kill -TERM -${group} 2>/dev/null; rm -rf -- "$0"; sleep 2; kill -KILL -${group} 2>/dev/null; true`,
      configDir,
    ],
    {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    },
  );
  reaper.unref();
  // The pipe's handle would keep the launcher's event loop alive.
  (reaper.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  return reaper;
}

/** Ends a detached child's whole process group, waiting for it to go. */
export async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  const group = child.pid;
  // Only ESRCH is "gone already"; anything else is told (docs/containment.md).
  const signal = (name: NodeJS.Signals): void => {
    const sent = signalGroup(group, name);
    if (!sent.ok) console.error(`warning: ${sent.error.message}`);
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
  // workerd may outlive the node parent for a moment; make sure nothing of the group stays.
  signal("SIGKILL");
}
