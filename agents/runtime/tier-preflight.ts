// Preflight (docs/real-clis.md): before an agent offers a tier, it checks the tier's program is
// installed, answers `--version` within 10 s (the coding CLIs; not a `text` executor's shell or
// script), and takes the executor's flags as the user the agent
// runs as (claude refuses bypassPermissions as root unless IS_SANDBOX=1). Tiers that fail are not
// registered; the agent logs why and lists them as `unavailable` in its hello.
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { basename, delimiter, join } from "node:path";
import type { ExecutorSpec, ExecutorsFile, ExecutorTier, Result } from "../../protocol/index.ts";
import { tiersOf } from "./executors-file.ts";
import { signalGroup } from "./process-group-signal.ts";

/** What a preflight found: the tiers to register, and why the others are not. */
export type Preflight = { tiers: ExecutorTier[]; unavailable: Partial<Record<ExecutorTier, string>> };

export const PREFLIGHT_TIMEOUT_MS = 10_000;

/** The program's path: as given when it holds a '/', else the first executable of that name on PATH. */
export function findProgram(program: string, path: string | undefined): string | undefined {
  const executable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes("/")) return executable(program) ? program : undefined;
  return (path ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, program))
    .find(executable);
}

/**
 * Why a tier is not offered (the message says what to fix): `no_executor`, `not_installed`, `no_version`
 * (`--version` failed, timed out or could not start), `refused_as_root` (flags the CLI refuses as root).
 */
export type TierRefusal = { code: "no_executor" | "not_installed" | "no_version" | "refused_as_root"; message: string };

const FINE: Result<void, TierRefusal> = { ok: true, value: undefined };
const refuse = (code: TierRefusal["code"], message: string): Result<never, TierRefusal> => ({
  ok: false,
  error: { code, message },
});

/** Runs `<program> --version`: fine when it answered with exit 0 in time, else why not. */
function checkVersion(
  path: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = PREFLIGHT_TIMEOUT_MS,
): Promise<Result<void, TierRefusal>> {
  return new Promise((resolve) => {
    let output = "";
    const child = spawn(path, ["--version"], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const kill = (): void => {
      if (child.pid === undefined) return;
      // A group that cannot be signalled (not ESRCH, which is "gone"): at least its leader goes.
      if (!signalGroup(child.pid, "SIGKILL").ok) child.kill("SIGKILL");
    };
    const timer = setTimeout(() => {
      kill();
      resolve(refuse("no_version", `'${basename(path)} --version' did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-2000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve(refuse("no_version", `'${basename(path)}' could not be started (${error.message})`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      kill();
      const first =
        output
          .split("\n")
          .find((line) => line.trim() !== "")
          ?.trim()
          .slice(0, 200) ?? "";
      resolve(
        code === 0
          ? FINE
          : refuse(
              "no_version",
              `'${basename(path)} --version' ${signal !== null ? `was killed by ${signal}` : `exited with code ${code}`}${first ? `: ${first}` : ""}`,
            ),
      );
    });
  });
}

/** The coding CLIs (docs/cli-formats.md): they answer `--version`. */
const KNOWN_CLIS = new Set(["claude", "codex", "gemini", "opencode"]);

/**
 * Whether `--version` tells something: for the coding CLIs and anything that speaks their output
 * formats, yes; a `text` executor may be a shell or a script (dash has no `--version`), so for those
 * being installed is all that is checked.
 */
function answersVersion(spec: ExecutorSpec): boolean {
  return KNOWN_CLIS.has(basename(spec.command[0] ?? "")) || spec.format !== "text";
}

/** Flags a program refuses as root (seen in claude 2.1.197, cli-signatures.ts), unless its sandbox switch is set. */
function checkRootFlags(spec: ExecutorSpec, env: NodeJS.ProcessEnv): Result<void, TierRefusal> {
  const program = basename(spec.command[0] ?? "");
  const bypass = spec.command.includes("bypassPermissions") || spec.command.includes("--dangerously-skip-permissions");
  if (program !== "claude" || !bypass || (spec.env?.IS_SANDBOX ?? env.IS_SANDBOX) === "1") return FINE;
  return refuse(
    "refused_as_root",
    'claude refuses bypassPermissions (--dangerously-skip-permissions) as root: add "env": {"IS_SANDBOX": "1"} to this executor (a sandboxed VM), use --permission-mode acceptEdits, or run the agent as another user',
  );
}

/** Checks every tier of the executors file; one `--version` per program and environment. */
export async function preflightTiers(
  file: ExecutorsFile,
  env: NodeJS.ProcessEnv = process.env,
  isRoot = process.getuid?.() === 0,
  timeoutMs = PREFLIGHT_TIMEOUT_MS,
): Promise<Preflight> {
  const versions = new Map<string, Promise<Result<void, TierRefusal>>>();
  const checks = tiersOf(file).map(async (tier): Promise<[ExecutorTier, Result<void, TierRefusal>]> => {
    const spec = file.executors[tier];
    if (spec === undefined) return [tier, refuse("no_executor", "no executor")];
    const program = spec.command[0] ?? "";
    const childEnv = { ...env, ...spec.env };
    const path = findProgram(program, childEnv.PATH);
    if (path === undefined)
      return [
        tier,
        refuse(
          "not_installed",
          `'${program}' is not installed (not found${program.includes("/") ? "" : " on PATH"}): install it, or remove ${tier} from the executors file`,
        ),
      ];
    const key = `${path}\n${JSON.stringify(spec.env ?? {})}`;
    if (answersVersion(spec) && !versions.has(key)) versions.set(key, checkVersion(path, childEnv, timeoutMs));
    const version = (answersVersion(spec) ? await versions.get(key) : undefined) ?? FINE;
    if (!version.ok)
      return [tier, refuse(version.error.code, `${version.error.message}: fix the installation of '${program}'`)];
    return [tier, isRoot ? checkRootFlags(spec, env) : FINE];
  });
  const results = await Promise.all(checks);
  return {
    tiers: results.filter(([, checked]) => checked.ok).map(([tier]) => tier),
    unavailable: Object.fromEntries(
      results.flatMap(([tier, checked]) => (checked.ok ? [] : [[tier, checked.error.message]])),
    ),
  };
}
