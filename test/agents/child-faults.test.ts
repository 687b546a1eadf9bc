// What a child meets through the real runner (docs/faults.md): a real GNU tool out of memory under
// the agent's real Linux limit is resource_limit, and a CLI that trusts $PWD (as opencode does) is
// told its own working directory, not the agent's; so is the acceptance command.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../agents/runtime/attempt-runner.ts";
import { environmentAt } from "../../agents/runtime/child-directory-env.ts";
import { linuxSupervisor } from "../../agents/vm/linux-limits.ts";
import type { ExecutorSpec } from "../../protocol/index.ts";
import { tempDirs } from "../temp-dirs.ts";

const temp = tempDirs();
const hasPrlimit = ((): boolean => {
  try {
    execFileSync("prlimit", ["--version"], { stdio: "ignore" });
    return process.platform === "linux";
  } catch {
    return false;
  }
})();

describe("a real tool out of memory", () => {
  it.skipIf(!hasPrlimit)(
    "classes GNU tail's 'memory exhausted' under the agent's --memory-mb as resource_limit, not unknown",
    async () => {
      // One 60 MB line through a pipe: tail must hold it whole, and a 32 MB data limit refuses that.
      const limits = { memoryMb: 32, maxProcs: 0, cpuS: 0 };
      const supervisor = linuxSupervisor(limits);
      if (!supervisor.ok) throw new Error(supervisor.error.message);
      const executor: ExecutorSpec = {
        command: ["sh", "-c", "head -c 60000000 /dev/zero | tr '\\0' a | tail -n 1 >/dev/null"],
        format: "text",
        timeout_s: 60,
      };
      const lines: string[] = [];
      const result = await runAttempt({
        executor,
        prompt: "",
        cwd: temp("mesh-oom-"),
        supervisor: supervisor.value,
        onLine: (line) => lines.push(line.text),
      }).done;
      expect(lines).toContain("tail: memory exhausted");
      expect(result.failure_class).toBe("resource_limit");
      expect(result.error?.message).toContain("tail: memory exhausted");
      expect(result.error?.message).toContain("--memory-mb 32");
    },
  );
});

describe("the child's working directory, in its environment", () => {
  // A CLI that trusts $PWD: it writes its file where PWD says, as opencode writes its edits.
  const trustsPwd = (file: string): ExecutorSpec => ({
    command: [
      process.execPath,
      "-e",
      `require("node:fs").writeFileSync(require("node:path").join(process.env.PWD, ${JSON.stringify(file)}), "x"); console.log(JSON.stringify({ INIT_CWD: process.env.INIT_CWD ?? null, OLDPWD: process.env.OLDPWD ?? null, lifecycle: process.env.npm_lifecycle_event ?? null }))`,
    ],
    format: "text",
    timeout_s: 30,
  });

  it("says the child's cwd in PWD, for the CLI and for the acceptance command, never the agent's own directory", async () => {
    const agentDir = temp("mesh-agent-own-");
    const cwd = temp("mesh-child-cwd-");
    const saved = {
      PWD: process.env.PWD,
      INIT_CWD: process.env.INIT_CWD,
      OLDPWD: process.env.OLDPWD,
      npm_lifecycle_event: process.env.npm_lifecycle_event,
    };
    // The agent as `npm run agent` starts it: its PWD and npm's INIT_CWD name the agent's checkout.
    Object.assign(process.env, { PWD: agentDir, INIT_CWD: agentDir, OLDPWD: agentDir, npm_lifecycle_event: "agent" });
    try {
      const lines: string[] = [];
      const acceptance = {
        command: `${JSON.stringify(process.execPath)} -e 'require("node:fs").writeFileSync(require("node:path").join(process.env.PWD, "by-acceptance"), "x")'`,
      };
      const result = await runAttempt({
        executor: trustsPwd("by-cli"),
        prompt: "",
        cwd,
        acceptance,
        trackChanges: false,
        onLine: (line) => lines.push(line.text),
      }).done;
      expect(result.failure_class).toBeUndefined();
      expect(existsSync(join(cwd, "by-cli"))).toBe(true);
      expect(existsSync(join(cwd, "by-acceptance"))).toBe(true);
      expect(existsSync(join(agentDir, "by-cli"))).toBe(false);
      expect(existsSync(join(agentDir, "by-acceptance"))).toBe(false);
      expect(lines).toContain(JSON.stringify({ INIT_CWD: null, OLDPWD: null, lifecycle: null }));
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("keeps the rest of the environment, npm's own settings included", () => {
    const env = environmentAt(
      {
        PATH: "/bin",
        PWD: "/agent",
        INIT_CWD: "/agent",
        npm_config_registry: "https://registry.example",
        npm_package_name: "agent-mesh",
        npm_config_local_prefix: "/agent",
      },
      "/work/tree",
    );
    expect(env).toEqual({ PATH: "/bin", PWD: "/work/tree", npm_config_registry: "https://registry.example" });
  });
});
