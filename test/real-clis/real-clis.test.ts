// The real coding CLIs, installed from npm into .cache/real-clis, run through a real agent with the shipped VM
// executors file and the real mesh, with no credentials: each must end with an infrastructure class (auth_failure,
// network_error or syntax_error) well before its executor's timeout (a bound of 90 s against a hang), without
// escalating, with a first error line that says what to fix, and leave no process behind. And every flag of the shipped
// executors files must be one the installed version accepts.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { ExecutorsFile, type ExecutorTier, type TaskView } from "../../protocol/index.ts";
import { type Mesh, startAgent, startMesh, type TestAgent, waitFor } from "../integration/mesh-harness.ts";
import { CLI_BIN, CLI_CACHE, installClis, pinnedVersions } from "./install-clis.ts";

const SHIPPED = ["agents/vm/executors.json", "agents/mac/executors.json"].map((file) => ({
  file,
  executors: ExecutorsFile.parse(JSON.parse(readFileSync(join(PROJECT_ROOT, file), "utf8"))).executors,
}));
/** One tier per CLI. */
const TIERS: Array<{ tier: ExecutorTier; cli: string }> = [
  { tier: "deepseek", cli: "opencode" },
  { tier: "gemini-flash", cli: "gemini" },
  { tier: "codex", cli: "codex" },
  { tier: "sonnet", cli: "claude" },
];
const INFRASTRUCTURE = ["auth_failure", "network_error", "syntax_error"];
/** Variables that would give a CLI credentials: none may reach them. */
const CREDENTIALS = /API_KEY|_TOKEN|ANTHROPIC|OPENAI|GEMINI|GOOGLE|DEEPSEEK|OPENCODE/;

let mesh: Mesh;
let agent: TestAgent;
let home: string;
let repo: string;
const env = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !CREDENTIALS.test(name))),
  PATH: `${CLI_BIN}:${process.env.PATH ?? ""}`,
  HOME: home,
});

/** Pids of processes started from the CLI cache (the CLIs and whatever they started). */
function cliProcesses(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(CLI_CACHE) ? [Number(pid)] : [];
      } catch {
        return [];
      }
    });
}

beforeAll(async () => {
  installClis();
  home = mkdtempSync(join(tmpdir(), "mesh-real-home-"));
  repo = mkdtempSync(join(tmpdir(), "mesh-real-repo-"));
  const git = (...args: string[]): void =>
    void execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
      cwd: repo,
      stdio: "ignore",
    });
  git("init", "-q");
  git("commit", "-q", "--allow-empty", "-m", "initial");
  mesh = await startMesh();
  const vm = SHIPPED[0]?.executors ?? {};
  agent = await startAgent(mesh, "vm-real", { executors: vm }, { capacity: 4, env: env() });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  for (const dir of [home, repo]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Each `<program> [sub] --help` once: several tiers and both executors files share a CLI, and gemini's help alone takes
 * seconds.
 */
const helpTexts = new Map<string, string>();
function helpOf(program: string, sub: string[]): string {
  const key = [program, ...sub].join(" ");
  const known = helpTexts.get(key);
  if (known !== undefined) return known;
  const help = spawnSync(join(CLI_BIN, program), [...sub, "--help"], { env: env(), encoding: "utf8", timeout: 60_000 });
  const text = `${help.stdout}\n${help.stderr}`;
  helpTexts.set(key, text);
  return text;
}

/**
 * A bound against a hang, not a speed claim: opencode's first start in a fresh HOME took over 30 s with the machine
 * loaded (docs/real-clis.md).
 */
const END_WITHIN_MS = 90_000;

describe("the real CLIs", () => {
  it("are the pinned versions", () => {
    const versions = Object.fromEntries(
      TIERS.map(({ cli }) => [
        cli,
        execFileSync(join(CLI_BIN, cli), ["--version"], { env: env(), encoding: "utf8", timeout: 30_000 }).trim(),
      ]),
    );
    // Recorded in the run's output: what these results were measured against.
    console.log(`real CLIs: ${JSON.stringify(versions)} (pinned: ${JSON.stringify(pinnedVersions())})`);
    for (const [name, version] of Object.entries(pinnedVersions()))
      expect(Object.values(versions).join(" "), name).toContain(version);
  });

  it.each(
    SHIPPED.flatMap(({ file, executors }) => Object.entries(executors).map(([tier, spec]) => ({ file, tier, spec }))),
  )("accept every flag of $file's $tier executor", ({ spec }) => {
    if (spec === undefined) return;
    const [program = "", maybeSub] = spec.command;
    const sub = maybeSub !== undefined && !maybeSub.startsWith("-") && maybeSub !== "{prompt}" ? [maybeSub] : [];
    const text = helpOf(program, sub);
    const words = [...spec.command, ...(spec.resume ?? [])].filter(
      (word) => /^-{1,2}[A-Za-z]/.test(word) || word === "resume",
    );
    for (const word of words)
      expect(text, `${program} ${sub.join(" ")} --help names ${word}`).toMatch(
        new RegExp(`(^|[\\s,\\[])${word.replace(/[-]/g, "\\-")}\\b`, "m"),
      );
  });

  it.each(TIERS)(
    "$cli ($tier) with no credentials ends with an infrastructure class, no escalation, saying what to fix",
    async ({ tier }) => {
      const started = Date.now();
      const created = await mesh.api<TaskView>("/api/tasks", {
        method: "POST",
        body: { instruction: "Add a README.md that says hello.", executor: tier, agent: "vm-real", cwd: repo },
      });
      expect(created.status).toBe(201);
      const task = await mesh.finished(created.body.task_id, END_WITHIN_MS);
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `${tier}: ${task.attempts[0]?.executor} ${task.error?.code} in ${seconds.toFixed(1)} s: ${task.error?.message}`,
      );
      expect(task.status).toBe("failed");
      expect(INFRASTRUCTURE).toContain(task.error?.code);
      expect(task.attempts).toHaveLength(1);
      expect(task.error?.message.split("\n")[0]).toMatch(/fix|set |install|run |export/i);
    },
  );

  it("leaves no process of theirs behind", async () => {
    await waitFor("every CLI process to be gone", () => cliProcesses().length === 0, 15_000);
  });
});
