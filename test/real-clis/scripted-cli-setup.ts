// How each real CLI is pointed at the scripted model server (test/model-server/README.md): the
// config files it reads and the `env` its executor carries, on top of the shipped VM executors.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { ExecutorsFile, type ExecutorTier } from "../../protocol/index.ts";

/**
 * Outbound connections a CLI makes that no setting turns off, as `<cli>: <host:port>` with why
 * (docs/real-clis.md). The server refuses them too; any other one fails the tests.
 */
export const KNOWN_OUTBOUND: ReadonlyArray<{ cli: string; host: string; why: string }> = [
  {
    cli: "opencode",
    host: "registry.npmjs.org:443",
    why: "installs @opencode-ai/plugin into its config directory in the background at every start (1.18.33); refused, it logs a warning and goes on",
  },
];

/** One tier per CLI, with the API it calls (what the server log names). */
export const SCRIPTED_TIERS: Array<{ tier: ExecutorTier; cli: string; api: RegExp; pkg: string }> = [
  { tier: "deepseek", cli: "opencode", api: /\/chat\/completions$/, pkg: "opencode-ai" },
  { tier: "sonnet", cli: "claude", api: /\/messages(\?|$)/, pkg: "@anthropic-ai/claude-code" },
  { tier: "codex", cli: "codex", api: /\/responses$/, pkg: "@openai/codex" },
  { tier: "gemini-flash", cli: "gemini", api: /:streamGenerateContent/, pkg: "@google/gemini-cli" },
];

/** The key every CLI is given: the server takes any, and no real one is ever near. */
const SCRIPTED_KEY = "mesh-scripted-no-real-key";

/**
 * Writes what each CLI reads to find the server, into `configDir` (and gemini's settings into
 * `home`, the one place it reads an auth type from a file it trusts), and returns the shipped VM
 * executors for the four tiers with each one's `env` pointing its CLI at `serverUrl`.
 */
export function scriptedExecutors(serverUrl: string, configDir: string, home: string): ExecutorsFile {
  // opencode: the shipped model `deepseek/deepseek-v4-flash` with the deepseek provider's base URL
  // moved; `status` keeps a model its bundled catalogue calls deprecated.
  const opencodeConfig = join(configDir, "opencode.json");
  writeFileSync(
    opencodeConfig,
    JSON.stringify({
      $schema: "https://opencode.ai/config.json",
      provider: {
        deepseek: {
          options: { baseURL: `${serverUrl}/v1`, apiKey: SCRIPTED_KEY },
          models: { "deepseek-v4-flash": { name: "DeepSeek V4 Flash (scripted)", status: "active" } },
        },
      },
    }),
  );
  // codex: a provider of its own (OPENAI_BASE_URL is not read by this version), on the Responses API.
  const codexHome = join(configDir, "codex-home");
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    join(codexHome, "config.toml"),
    [
      `model_provider = "mesh"`,
      ``,
      `[model_providers.mesh]`,
      `name = "mesh scripted model"`,
      `base_url = "${serverUrl}/v1"`,
      `env_key = "MESH_SCRIPTED_KEY"`,
      `wire_api = "responses"`,
      ``,
      `[analytics]`,
      `enabled = false`,
      ``,
      `[features]`,
      `plugins = false`,
      ``,
    ].join("\n"),
  );
  // gemini: without an auth type in its user settings it exits 41 whatever the environment says
  // (a system settings file under /tmp is refused as insecure).
  mkdirSync(join(home, ".gemini"), { recursive: true });
  writeFileSync(
    join(home, ".gemini/settings.json"),
    JSON.stringify({
      security: { auth: { selectedType: "gemini-api-key" } },
      privacy: { usageStatisticsEnabled: false },
    }),
  );

  const redirect: Partial<Record<ExecutorTier, Record<string, string>>> = {
    deepseek: { OPENCODE_CONFIG: opencodeConfig, OPENCODE_DISABLE_MODELS_FETCH: "1", OPENCODE_DISABLE_AUTOUPDATE: "1" },
    sonnet: {
      ANTHROPIC_BASE_URL: serverUrl,
      ANTHROPIC_API_KEY: SCRIPTED_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    },
    codex: { CODEX_HOME: codexHome, MESH_SCRIPTED_KEY: SCRIPTED_KEY },
    "gemini-flash": { GOOGLE_GEMINI_BASE_URL: serverUrl, GEMINI_API_KEY: SCRIPTED_KEY },
  };
  const shipped = ExecutorsFile.parse(
    JSON.parse(readFileSync(join(PROJECT_ROOT, "agents/vm/executors.json"), "utf8")),
  ).executors;
  const executors: ExecutorsFile["executors"] = {};
  for (const { tier } of SCRIPTED_TIERS) {
    const spec = shipped[tier];
    if (spec === undefined) throw new Error(`agents/vm/executors.json has no ${tier} executor`);
    executors[tier] = { ...spec, env: { ...spec.env, ...redirect[tier], ...proxyEnv(serverUrl) } };
  }
  return { executors };
}

/**
 * The proxy variables every CLI runs with: any connection to another host goes to the model server,
 * which logs and refuses it (test/model-server/outbound-guard.ts). `direct`: 127.0.0.1 and localhost
 * bypass it (NO_PROXY), as the tests run; otherwise everything goes through it (the probe).
 */
export function proxyEnv(serverUrl: string, direct = true): Record<string, string> {
  const proxy = {
    HTTP_PROXY: serverUrl,
    HTTPS_PROXY: serverUrl,
    ALL_PROXY: serverUrl,
    http_proxy: serverUrl,
    https_proxy: serverUrl,
    all_proxy: serverUrl,
  };
  return direct
    ? { ...proxy, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" }
    : { ...proxy, NO_PROXY: "", no_proxy: "" };
}
