import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { metricsTokenProblem } from "../protocol/metrics.ts";
import { webhookTargets } from "../protocol/notifications.ts";
import type { Result } from "../protocol/result.ts";
import { routesFromSetting } from "../protocol/routing.ts";
import { otlpUrlProblem } from "../protocol/trace-context.ts";
import { valueOrExit } from "./command-line.ts";

/** Settings the server reads from the environment, with their defaults (docs/settings.md). */
const SETTINGS = { MESH_DAILY_HALT_USD: "20", MESH_MONTHLY_ALERT_USD: "80", MESH_HEARTBEAT_S: "5" } as const;
/** Settings passed on only when set: the budget's per-attempt token estimate and extra MCP origins. */
const OPTIONAL = [
  "MESH_ESTIMATE_INPUT_TOKENS",
  "MESH_ESTIMATE_OUTPUT_TOKENS",
  "MESH_ALLOWED_ORIGINS",
  "MESH_IDLE_FLAG_S",
  "MESH_CONSENSUS_TIERS",
  "MESH_CONSENSUS_SIZE",
  "MESH_RESERVATION_TTL_S",
  // Extra enrollment tokens (a secret: it travels in the 0600 config file like the others) and the limits on abuse
  // (docs/agent-identity.md).
  "MESH_ENROLLMENT_TOKENS",
  "MESH_RATE_PER_S",
  "MESH_RATE_BURST",
  "MESH_LONG_POLLS_MAX",
  // The queue timeout's default and the routing table (docs/scheduling.md).
  "MESH_QUEUE_TIMEOUT_S",
  "MESH_ROUTES",
  // Remote MCP clients (docs/oauth.md): the URL they see, loopback client metadata for development, and token
  // lifetimes.
  "MESH_PUBLIC_URL",
  "MESH_OAUTH_DEV",
  "MESH_OAUTH_CODE_TTL_S",
  "MESH_OAUTH_ACCESS_TTL_S",
  // Traces (docs/traces.md): the OTLP/HTTP collector's base URL.
  "MESH_OTLP_URL",
  // Webhooks (docs/notifications.md): the targets, the signing secret (in the 0600 config file like the others), a
  // shorter retry.
  "MESH_WEBHOOK_URLS",
  "MESH_WEBHOOK_SECRET",
  "MESH_WEBHOOK_RETRY_MS",
  // Metrics (docs/metrics.md): the scrape credential, a secret (in the 0600 config file like the others).
  "MESH_METRICS_TOKEN",
] as const;

/**
 * The partykit vars for a server: the two secrets plus every setting (from `env`, else its default), or
 * `routes_unreadable` when the routing table's file cannot be read.
 */
export function readServerVars(
  secrets: { MESH_ORCHESTRATOR_TOKEN: string; MESH_AGENT_TOKEN: string },
  env: NodeJS.ProcessEnv = process.env,
): Result<Record<string, string>, SettingsRefusal> {
  const vars: Record<string, string> = { ...secrets };
  for (const [name, fallback] of Object.entries(SETTINGS)) vars[name] = env[name] ?? fallback;
  for (const name of OPTIONAL) {
    const value = env[name];
    if (value !== undefined) vars[name] = value;
  }
  // The routing table may live in a file: MESH_ROUTES_FILE, else ./routes.json when there is one.
  const routesFile = env.MESH_ROUTES_FILE ?? (existsSync("routes.json") ? "routes.json" : undefined);
  if (vars.MESH_ROUTES === undefined && routesFile !== undefined) {
    try {
      vars.MESH_ROUTES = readFileSync(resolve(routesFile), "utf8");
    } catch (error) {
      return refuse(
        "routes_unreadable",
        `could not read the routing table: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return { ok: true, value: vars };
}

/** readServerVars for a test harness, where an unreadable routes file is a fault of the test: thrown. */
export function serverVars(
  secrets: { MESH_ORCHESTRATOR_TOKEN: string; MESH_AGENT_TOKEN: string },
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const read = readServerVars(secrets, env);
  if (!read.ok) throw new Error(read.error.message);
  return read.value;
}

/** Which setting stops the server from starting (docs/settings.md); the message says what to set. */
export type SettingsRefusal = {
  code:
    | "routes_unreadable"
    | "routes_invalid"
    | "public_url_invalid"
    | "otlp_url_invalid"
    | "webhook_invalid"
    | "metrics_token_invalid";
  message: string;
};

const refuse = (code: SettingsRefusal["code"], message: string): Result<never, SettingsRefusal> => ({
  ok: false,
  error: { code, message },
});
const FINE: Result<void, SettingsRefusal> = { ok: true, value: undefined };

/**
 * Whether the server's settings can start it: the routing table (docs/scheduling.md), the public URL (docs/oauth.md),
 * the collector, the webhooks, the metrics token.
 */
export function checkSettings(vars: Record<string, string>): Result<void, SettingsRefusal> {
  const routes = routesFromSetting(vars.MESH_ROUTES);
  if (routes !== null && "problem" in routes)
    return refuse(
      "routes_invalid",
      `${routes.problem} (from MESH_ROUTES, MESH_ROUTES_FILE or ./routes.json); fix the table or remove it`,
    );
  const publicUrl = checkPublicUrl(vars.MESH_PUBLIC_URL);
  if (!publicUrl.ok) return publicUrl;
  const otlp = otlpUrlProblem(vars.MESH_OTLP_URL);
  if (otlp !== null) return refuse("otlp_url_invalid", otlp);
  const webhooks = checkWebhookSettings(vars);
  if (!webhooks.ok) return webhooks;
  const metrics = metricsTokenProblem(vars.MESH_METRICS_TOKEN);
  return metrics === null ? FINE : refuse("metrics_token_invalid", metrics);
}

/**
 * Every webhook target must be an http(s) URL, and plain (non-Slack) targets are signed, so they need the secret
 * (docs/notifications.md).
 */
export function checkWebhookSettings(vars: Record<string, string | undefined>): Result<void, SettingsRefusal> {
  const targets = webhookTargets(vars.MESH_WEBHOOK_URLS);
  if (!targets.ok) return refuse("webhook_invalid", targets.error);
  if (targets.value.some((t) => !t.slack) && (vars.MESH_WEBHOOK_SECRET ?? "").trim() === "")
    return refuse(
      "webhook_invalid",
      "MESH_WEBHOOK_URLS names a webhook that is not Slack's, and MESH_WEBHOOK_SECRET is not set: set a secret to sign its events with",
    );
  return FINE;
}

/** MESH_PUBLIC_URL must be an http(s) origin without a path: OAuth clients build every endpoint from it. */
function checkPublicUrl(value: string | undefined): Result<void, SettingsRefusal> {
  if (value === undefined || value.trim() === "") return FINE;
  const url = URL.canParse(value.trim()) ? new URL(value.trim()) : null;
  if (url === null || (url.protocol !== "https:" && url.protocol !== "http:"))
    return refuse(
      "public_url_invalid",
      `MESH_PUBLIC_URL=${value} is not an http(s) URL; give the origin clients use, e.g. https://mesh.example.com`,
    );
  if (url.pathname.replace(/\/+$/, "") !== "" || url.search !== "" || url.hash !== "")
    return refuse(
      "public_url_invalid",
      `MESH_PUBLIC_URL=${value} has a path; give the origin only (e.g. ${url.origin})`,
    );
  return FINE;
}

/**
 * The server's vars, or exit 2 with one line: what `npm start` and `npm run server` do before starting anything
 * (docs/settings.md).
 */
export function serverVarsOrExit(secrets: {
  MESH_ORCHESTRATOR_TOKEN: string;
  MESH_AGENT_TOKEN: string;
}): Record<string, string> {
  const vars = valueOrExit(readServerVars(secrets));
  valueOrExit(checkSettings(vars));
  return vars;
}
