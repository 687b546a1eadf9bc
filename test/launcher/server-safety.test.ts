// "Refuse to start unsafe" (docs/settings.md): the server and the launcher refuse a missing or short secret
// with exit code 2 and one line naming the setting, before starting anything; a worker that somehow
// runs without usable secrets answers /health 503, never healthy and broken.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { newToken } from "../../launcher/secrets-file.ts";
import MeshEdge from "../../party/edge/mesh-edge.ts";
import { freePort, waitFor } from "../integration/mesh-harness.ts";

/** Pids whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker) ? [Number(pid)] : [];
      } catch {
        return [];
      }
    });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const good = newToken();

function launch(script: string, env: Record<string, string>, args: string[] = []) {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", join(PROJECT_ROOT, "launcher", script), "--port", "1", ...args],
    {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  return { status: run.status, stderr: run.stderr.trim(), stdout: run.stdout.trim() };
}

describe("refusing to start unsafe", () => {
  it.each([
    [
      "a missing orchestrator token",
      { MESH_AGENT_TOKEN: good },
      /^error: MESH_ORCHESTRATOR_TOKEN is not set; set it to a random secret of 32\+ characters/,
    ],
    [
      "a short agent token",
      { MESH_ORCHESTRATOR_TOKEN: good, MESH_AGENT_TOKEN: "only-twenty-chars-xx" },
      /^error: MESH_AGENT_TOKEN is 20 characters; set it to a random secret of 32\+ characters/,
    ],
  ])("npm run server refuses %s: exit 2, one line", (_name, env, line) => {
    const run = launch("server.ts", env);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(line);
    expect(run.stderr.split("\n")).toHaveLength(1);
  });

  it("npm start refuses a short secret from the environment, and writes nothing", () => {
    const run = launch("start.ts", { MESH_ORCHESTRATOR_TOKEN: "short", MESH_AGENT_TOKEN: good });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error: MESH_ORCHESTRATOR_TOKEN is 5 characters/);
    expect(run.stderr.split("\n")).toHaveLength(1);
  });

  it("refuses a routing table that is not one, with one line, before starting anything", () => {
    const secrets = { MESH_ORCHESTRATOR_TOKEN: newToken(), MESH_AGENT_TOKEN: newToken() };
    const bad = launch("server.ts", { ...secrets, MESH_ROUTES: JSON.stringify([{ kind: "docs", tier: "opus" }]) });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(
      "error: MESH_ROUTES: table: the last rule is the default: it may name only name and tier (from MESH_ROUTES, MESH_ROUTES_FILE or ./routes.json); fix the table or remove it",
    );
    expect(launch("server.ts", { ...secrets, MESH_ROUTES: "{" }).stderr).toMatch(
      /^error: MESH_ROUTES is not valid JSON/,
    );
    const unreadable = launch("server.ts", { ...secrets, MESH_ROUTES_FILE: join(tmpdir(), "no-such-routes.json") });
    expect(unreadable.status).toBe(2);
    expect(unreadable.stderr).toMatch(/^error: could not read the routing table: ENOENT/);
    expect(unreadable.stderr.split("\n")).toHaveLength(1);
  });

  it("npm start -- --help prints its usage, not a stack trace", () => {
    const run = launch("start.ts", {}, ["--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm start/);
    const bad = launch("start.ts", {}, ["--colour"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^npm start: Unknown option '--colour'/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("a worker without usable secrets answers /health 503 and every route with a typed error naming the setting", async () => {
    const lobby = { env: { MESH_ORCHESTRATOR_TOKEN: good, MESH_AGENT_TOKEN: "too-short-000000" } };
    const call = (path: string) =>
      MeshEdge.onFetch(
        new Request(`http://mesh.test${path}`, { headers: { authorization: `Bearer ${good}` } }) as never,
        lobby as never,
        { waitUntil: () => {} } as never,
      );
    const health = await call("/health");
    expect(health?.status).toBe(503);
    expect(await health?.json()).toMatchObject({ ok: false, error: { code: "server_misconfigured" } });
    const api = await call("/api/tasks");
    expect(api?.status).toBe(503);
    expect(JSON.stringify(await api?.json())).toContain("MESH_AGENT_TOKEN is 16 characters");
    const fine = await MeshEdge.onFetch(
      new Request("http://mesh.test/health") as never,
      { env: { MESH_ORCHESTRATOR_TOKEN: good, MESH_AGENT_TOKEN: good } } as never,
      { waitUntil: () => {} } as never,
    );
    expect(fine?.status).toBe(200);
  });

  it("listens on 127.0.0.1, keeps secrets off every command line, and the dev server ends when its launcher is SIGKILLed: no partykit or workerd left, the port free", async () => {
    const port = await freePort();
    const persist = mkdtempSync(join(tmpdir(), "mesh-kill-launcher-"));
    const launcher = spawn(
      process.execPath,
      ["--import", "tsx", join(PROJECT_ROOT, "launcher/server.ts"), "--port", String(port), "--persist", persist],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, MESH_ORCHESTRATOR_TOKEN: good, MESH_AGENT_TOKEN: newToken() },
        stdio: "ignore",
      },
    );
    try {
      await waitFor(
        "the server up",
        async () =>
          (await fetch(`http://127.0.0.1:${port}/health`)
            .then((r) => r.ok)
            .catch(() => false)) || null,
        60_000,
        200,
      );
      // It listens on 127.0.0.1 only (partykit dev alone would take 0.0.0.0).
      const listening = readFileSync("/proc/net/tcp", "utf8")
        .split("\n")
        .filter(
          (line) =>
            line.includes(`:${port.toString(16).toUpperCase().padStart(4, "0")} `) && line.split(/\s+/)[4] === "0A",
        );
      expect(listening.map((line) => line.trim().split(/\s+/)[1])).toEqual([
        `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`,
      ]);
      // No secret on any process's command line (`ps` shows them to every local user).
      expect(processesWith(good)).toEqual([]);
      const [devServer] = processesWith(persist).filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("partykit"),
      );
      expect(devServer).toBeTypeOf("number");
      expect(groupAlive(devServer ?? 0)).toBe(true);
      launcher.kill("SIGKILL");
      await waitFor("the dev server's group gone", () => !groupAlive(devServer ?? 0) || null, 10_000, 100);
      expect(
        await fetch(`http://127.0.0.1:${port}/health`)
          .then(() => "answered")
          .catch(() => "refused"),
      ).toBe("refused");
    } finally {
      launcher.kill("SIGKILL");
      for (const pid of processesWith(persist)) process.kill(-pid, "SIGKILL");
      rmSync(persist, { recursive: true, force: true });
    }
  }, 90_000);
});
