import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultAgentName, parseAgentOptions } from "../../agents/runtime/agent-options.ts";

const env = { MESH_AGENT_TOKEN: "secret-token-0123456789" };
const workdir = mkdtempSync(join(tmpdir(), "mesh-workdir-"));
const required = ["--kind", "vm", "--server", "http://127.0.0.1:1999", "--executors", "executors.json"];

describe("parseAgentOptions", () => {
  it("reads every flag and takes the token from MESH_AGENT_TOKEN", () => {
    const result = parseAgentOptions([...required, "--name", "vm-1", "--capacity", "3", "--workdir", workdir], env);
    expect(result).toMatchObject({ ok: true, value: { action: "run" } });
    if (!result.ok || result.value.action !== "run") return;
    expect(result.value.options).toMatchObject({
      kind: "vm",
      name: "vm-1",
      capacity: 3,
      workdir,
      credential: { enrollmentToken: env.MESH_AGENT_TOKEN },
    });
    expect(result.value.options.server.host).toBe("127.0.0.1:1999");
    expect(result.value.options.executorsPath).toBe(join(process.cwd(), "executors.json"));
  });

  it("defaults capacity to 1, workdir to the current directory and the name to the host's", () => {
    const result = parseAgentOptions(required, env);
    expect(result).toMatchObject({ ok: true, value: { action: "run" } });
    if (!result.ok || result.value.action !== "run") return;
    expect(result.value.options.capacity).toBe(1);
    expect(result.value.options.workdir).toBe(process.cwd());
    expect(result.value.options.name).toBe(defaultAgentName());
  });

  it("reads a --config file by flag name under the command line's flags, its paths relative to the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "mesh-config-"));
    const config = join(dir, "agent.json");
    writeFileSync(
      config,
      JSON.stringify({
        kind: "vm",
        server: "http://mesh.example:1999",
        executors: "executors.json",
        capacity: 2,
        name: "from-file",
        workdir: ".",
      }),
    );
    const result = parseAgentOptions(["--config", config, "--name", "from-flag"], env);
    expect(result).toMatchObject({ ok: true, value: { action: "run" } });
    if (!result.ok || result.value.action !== "run") return;
    expect(result.value.options).toMatchObject({
      kind: "vm",
      name: "from-flag",
      capacity: 2,
      executorsPath: join(dir, "executors.json"),
      workdir: dir,
    });
    expect(result.value.options.server.host).toBe("mesh.example:1999");
  });

  it.each([
    [{ token: "x" }, "put it in the environment variable MESH_AGENT_TOKEN"],
    [{ colour: "red" }, "'colour' is not a setting"],
    [{ capacity: [2] }, "'capacity' must be a string or a number"],
    [[1, 2], "must hold a JSON object"],
  ])("refuses a config file that says %j", (content, message) => {
    const config = join(mkdtempSync(join(tmpdir(), "mesh-config-")), "agent.json");
    writeFileSync(config, JSON.stringify(content));
    expect(parseAgentOptions(["--config", config], env)).toEqual({
      ok: false,
      error: { code: "bad_config", message: expect.stringContaining(message) },
    });
    expect(parseAgentOptions(["--config", join(tmpdir(), "no-such-agent.json")], env)).toEqual({
      ok: false,
      error: { code: "bad_config", message: expect.stringContaining("could not be read as JSON") },
    });
  });

  it("makes a host name into a valid agent name", () => {
    expect(defaultAgentName("my mac (2).local")).toBe("my-mac--2-.local");
    expect(defaultAgentName("--host")).toBe("host");
  });

  it.each([
    [["--server", "http://x:1", "--executors", "e.json"], "--kind is required"],
    [["--kind", "vm", "--executors", "e.json"], "--server is required"],
    [["--kind", "vm", "--server", "http://x:1"], "--executors is required"],
  ])("refuses a missing required flag: %j", (argv, message) => {
    expect(parseAgentOptions(argv, env)).toEqual({
      ok: false,
      error: { code: "missing_flag", message: expect.stringContaining(message) },
    });
  });

  it("refuses an unknown kind", () => {
    const result = parseAgentOptions(["--kind", "linux", "--server", "http://x:1", "--executors", "e.json"], env);
    expect(result).toEqual({
      ok: false,
      error: { code: "bad_value", message: "--kind 'linux' is not a kind: use vm or mac" },
    });
  });

  it("refuses a kind other than the entry point's own", () => {
    const result = parseAgentOptions(["--kind", "mac", "--server", "http://x:1", "--executors", "e.json"], env, {
      kind: "vm",
    });
    expect(result).toMatchObject({ ok: false, error: { code: "bad_value" } });
  });

  it("lets the entry point supply the kind and the executors file", () => {
    const result = parseAgentOptions(["--server", "http://x:1"], env, {
      kind: "mac",
      executorsPath: "/etc/mesh/executors.json",
    });
    expect(result).toMatchObject({
      ok: true,
      value: { action: "run", options: { kind: "mac", executorsPath: "/etc/mesh/executors.json" } },
    });
  });

  it("refuses to run without MESH_AGENT_TOKEN and says how to set it", () => {
    const result = parseAgentOptions(required, {});
    expect(result).toEqual({
      ok: false,
      error: { code: "no_credential", message: expect.stringContaining("MESH_AGENT_TOKEN is not set") },
    });
    // An empty token is no token.
    expect(parseAgentOptions(required, { MESH_AGENT_TOKEN: "" })).toMatchObject({
      ok: false,
      error: { code: "no_credential" },
    });
  });

  it("refuses a token given as a flag", () => {
    const result = parseAgentOptions([...required, "--token", "abc"], env);
    expect(result).toEqual({
      ok: false,
      error: { code: "bad_flag", message: expect.stringContaining("MESH_AGENT_TOKEN") },
    });
  });

  it.each([
    [["--server", "not a url"], "is not a URL"],
    [["--server", "ftp://x"], "must start with http:// or https://"],
    [["--capacity", "0"], "--capacity '0'"],
    [["--capacity", "2.5"], "--capacity '2.5'"],
    [["--capacity", "65"], "from 1 to 64"],
    [["--name", "bad name!"], "not a valid agent name"],
    [["--workdir", "/no/such/dir/here"], "is not a directory"],
    [["--colour", "red"], "--help"],
  ])("refuses a bad value: %j", (extra, message) => {
    const code = extra[0] === "--colour" ? "bad_flag" : "bad_value";
    expect(parseAgentOptions([...required, ...extra], env)).toEqual({
      ok: false,
      error: { code, message: expect.stringContaining(message) },
    });
  });

  it("reads the limits and the rates file, with defaults for limits not given", () => {
    const result = parseAgentOptions(
      [...required, "--memory-mb", "2048", "--cpu-s", "0", "--run-as", "mesh", "--rates", "rates.json"],
      env,
    );
    expect(result).toMatchObject({ ok: true, value: { action: "run" } });
    if (!result.ok || result.value.action !== "run") return;
    expect(result.value.options.limits).toEqual({ memoryMb: 2048, maxProcs: 512, cpuS: 0, runAs: "mesh" });
    expect(result.value.options.ratesPath).toBe(join(process.cwd(), "rates.json"));
    const plain = parseAgentOptions(required, env);
    if (plain.ok && plain.value.action === "run")
      expect(plain.value.options.limits).toEqual({ memoryMb: 4096, maxProcs: 512, cpuS: 3600 });
  });

  it.each([
    [["--memory-mb=-1"], "--memory-mb '-1' must be a whole number"],
    [["--max-procs", "many"], "--max-procs 'many'"],
    [["--cpu-s", "1.5"], "--cpu-s '1.5'"],
  ])("refuses a bad limit: %j", (extra, message) => {
    expect(parseAgentOptions([...required, ...extra], env)).toEqual({
      ok: false,
      error: { code: "bad_value", message: expect.stringContaining(message) },
    });
  });

  it("prints usage for --help", () => {
    const result = parseAgentOptions(["--help"], {});
    expect(result).toMatchObject({
      ok: true,
      value: { action: "help", usage: expect.stringContaining("--kind vm|mac") },
    });
  });
});
