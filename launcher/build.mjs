#!/usr/bin/env node
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
// `npm run build`, also run by `prepare` (so `npm install` and `npm ci` build): compiles the agent,
// the MCP bridge and the launcher to JavaScript in dist/ (git-ignored) with esbuild, so no TypeScript
// compiler runs in production. Plain JavaScript because it runs before anything is compiled.
// `--with-test-fleet` also builds test/fixtures/agent-fleet.ts (for the test harness and the bench).
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(ROOT, "dist");

/** Output name → source. The outputs sit one folder below the root, as launcher/ and bridge/ do. */
const AGENT_ENTRIES = { "mesh-agent": "agents/cli.ts" };
const TEST_ENTRIES = { "agent-fleet": "test/fixtures/agent-fleet.ts" };
const TOOL_ENTRIES = { "mesh-mcp": "bridge/stdio-bridge.ts", start: "launcher/start.ts", server: "launcher/server.ts" };

const common = {
  absWorkingDir: ROOT,
  outdir: OUT_DIR,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  write: false,
  logLevel: "warning",
};

// The agent is one file with its dependencies inside: loading ~130 modules of zod, ws and
// partysocket one by one held ~10 MiB more of an idle agent's memory (64 → 51 MiB measured).
// Whitespace and syntax are minified (the source stays in memory); names are kept for stack traces.
const agentBundle = {
  ...common,
  minifyWhitespace: true,
  minifySyntax: true,
  // ws loads these optional native modules with require() when they are installed.
  external: ["bufferutil", "utf-8-validate"],
  // The bundled CommonJS (ws) calls require() for Node's modules and bufferutil; ESM has none.
  banner: {
    js: 'import { createRequire as __meshCreateRequire } from "node:module"; const require = __meshCreateRequire(import.meta.url);',
  },
};

const withTestFleet = process.argv.includes("--with-test-fleet");
const builds = await Promise.all([
  // The agent's heap policy runs before any other module of it, whoever starts it (docs/memory.md).
  // Not in the test fleet: hundreds of agents in one process are a load test, not an idle agent.
  build({ ...agentBundle, entryPoints: AGENT_ENTRIES, inject: ["agents/runtime/heap-policy.ts"] }),
  ...(withTestFleet ? [build({ ...agentBundle, entryPoints: TEST_ENTRIES })] : []),
  // The bridge and the launcher load their dependencies from node_modules as they are.
  build({ ...common, entryPoints: TOOL_ENTRIES, packages: "external" }),
]);

// Each file is written beside its final name and renamed over it: a test or agent starting while
// another process rebuilds never reads a half-written file.
mkdirSync(OUT_DIR, { recursive: true });
for (const file of builds.flatMap((result) => result.outputFiles)) {
  const staging = `${file.path}.${process.pid}.tmp`;
  writeFileSync(staging, file.contents);
  renameSync(staging, file.path);
}
