// Agents as services (agents/vm/README.md, agents/mac/README.md): the install scripts write a systemd unit that
// `systemd-analyze verify` accepts without a warning, a launchd plist a plist parser reads, the token
// in 0600 files only, and agent settings the agent's --config takes; the agent speaks systemd's notify
// protocol (READY=1, WATCHDOG=1 at half of WatchdogSec) only under systemd.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parsePlist } from "plist";
import { describe, expect, it, vi } from "vitest";
import { parseAgentOptions } from "../../agents/runtime/agent-options.ts";
import { serviceNotifier } from "../../agents/runtime/service-notify.ts";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { tempDirs } from "../temp-dirs.ts";

const TOKEN = "service-install-token-0123456789abcdefghij";
const temp = tempDirs("all");
const scratch = (): string => temp("mesh-service-");

const install = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync("bash", [join(PROJECT_ROOT, script), ...args], {
    env: { ...process.env, MESH_AGENT_TOKEN: TOKEN, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });

describe("the VM's systemd service", () => {
  const root = scratch();
  const done = install("agents/vm/install-service.sh", [
    "--server",
    "https://mesh.example.com",
    "--name",
    "vm-svc",
    "--capacity",
    "2",
    "--node",
    process.execPath,
    "--root",
    root,
  ]);
  const unit = join(root, "etc/systemd/system/agent-mesh-agent.service");

  it("writes the unit, and systemd-analyze verify takes it without a warning", () => {
    expect(done.status, done.stderr).toBe(0);
    const verify = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
    expect(verify.error, "systemd-analyze is missing: install Debian's systemd package (.ci/run does)").toBeUndefined();
    expect(verify.status).toBe(0);
    expect(verify.stderr.trim()).toBe("");
    const text = readFileSync(unit, "utf8");
    for (const line of [
      "Type=notify",
      "NotifyAccess=all",
      "WatchdogSec=60",
      "Restart=always",
      "User=mesh-agent",
      "MemoryMax=8G",
      "CPUQuota=200%",
      "TasksMax=2048",
      "EnvironmentFile=/etc/agent-mesh/agent.env",
    ])
      expect(text).toContain(`\n${line}\n`);
    expect(text).toContain(
      `ExecStart=${process.execPath} ${PROJECT_ROOT}/dist/mesh-agent.js --config /etc/agent-mesh/agent.json`,
    );
    expect(text).not.toMatch(/@[A-Z]+@/);
  });

  it("keeps the token in a 0600 environment file, and nowhere else", () => {
    const envFile = join(root, "etc/agent-mesh/agent.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, "utf8")).toBe(`MESH_AGENT_TOKEN=${TOKEN}\n`);
    expect(readFileSync(unit, "utf8")).not.toContain(TOKEN);
    expect(readFileSync(join(root, "etc/agent-mesh/agent.json"), "utf8")).not.toContain(TOKEN);
  });

  it("writes settings the agent's --config reads", () => {
    const workdir = scratch();
    const parsed = parseAgentOptions(
      [
        "--config",
        join(root, "etc/agent-mesh/agent.json"),
        "--workdir",
        workdir,
        "--executors",
        join(PROJECT_ROOT, "agents/vm/executors.json"),
      ],
      { MESH_AGENT_TOKEN: TOKEN },
    );
    expect(parsed).toMatchObject({ ok: true, value: { action: "run" } });
    if (!parsed.ok || parsed.value.action !== "run") return;
    expect(parsed.value.options).toMatchObject({
      kind: "vm",
      name: "vm-svc",
      capacity: 2,
      stateDir: "/var/lib/agent-mesh/vm-svc",
    });
  });

  it("refuses without a server, with a short token, or an unknown option, saying what to do", () => {
    expect(install("agents/vm/install-service.sh", ["--root", scratch()]).stderr).toContain("--server is required");
    expect(
      install("agents/vm/install-service.sh", ["--server", "https://m", "--root", scratch()], {
        MESH_AGENT_TOKEN: "short",
      }).stderr,
    ).toContain("32 characters or more");
    const unknown = install("agents/vm/install-service.sh", ["--colour", "red"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--colour'");
  });
});

describe("the Mac's launchd agent", () => {
  const root = scratch();
  const home = "/Users/meshuser";
  const done = install(
    "agents/mac/install-service.sh",
    ["--server", "https://mesh.example.com", "--name", "mac-svc", "--node", process.execPath, "--root", root],
    { HOME: home },
  );
  const file = join(root, home, "Library/LaunchAgents/com.agent-mesh.agent.plist");

  it("writes a plist that a plist parser reads: KeepAlive, log paths, the agent with its --config", () => {
    expect(done.status, done.stderr).toBe(0);
    const parsed = parsePlist(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      Label: "com.agent-mesh.agent",
      KeepAlive: true,
      RunAtLoad: true,
      ProgramArguments: [
        process.execPath,
        `${PROJECT_ROOT}/dist/mesh-agent.js`,
        "--config",
        `${home}/.agent-mesh/agent.json`,
      ],
      StandardOutPath: `${home}/Library/Logs/agent-mesh/agent.log`,
      StandardErrorPath: `${home}/Library/Logs/agent-mesh/agent.log`,
      EnvironmentVariables: { MESH_AGENT_TOKEN: TOKEN },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(root, home, ".agent-mesh/agent.json"), "utf8"))).toMatchObject({
      kind: "mac",
      name: "mac-svc",
      server: "https://mesh.example.com",
    });
  });
});

describe("serviceNotifier", () => {
  it("says READY=1 once, then only the status, and pings the watchdog at half of WatchdogSec under systemd", () => {
    vi.useFakeTimers();
    try {
      const sent: string[][] = [];
      const notifier = serviceNotifier(
        { NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "60000000" },
        (fields) => void sent.push([...fields]),
      );
      notifier.ready("connecting");
      notifier.ready("registered");
      vi.advanceTimersByTime(30_000);
      notifier.stop();
      vi.advanceTimersByTime(60_000);
      expect(sent).toEqual([["READY=1", "STATUS=connecting"], ["STATUS=registered"], ["WATCHDOG=1"], ["STOPPING=1"]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("does nothing outside systemd", () => {
    const notify = vi.fn();
    const notifier = serviceNotifier({}, notify);
    notifier.ready("x");
    notifier.stop();
    expect(notify).not.toHaveBeenCalled();
  });
});
