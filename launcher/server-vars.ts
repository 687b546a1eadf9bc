/** Settings the server reads from the environment, with the defaults of INTERFACES.md. */
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
  // Issue 14: extra enrollment tokens (a secret: it travels in the 0600 config file like the others) and the limits on abuse.
  "MESH_ENROLLMENT_TOKENS",
  "MESH_RATE_PER_S",
  "MESH_RATE_BURST",
  "MESH_LONG_POLLS_MAX",
] as const;

/** The partykit vars for a server: the two secrets plus every setting (from `env`, else its default). */
export function serverVars(secrets: { MESH_ORCHESTRATOR_TOKEN: string; MESH_AGENT_TOKEN: string }, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const vars: Record<string, string> = { ...secrets };
  for (const [name, fallback] of Object.entries(SETTINGS)) vars[name] = env[name] ?? fallback;
  for (const name of OPTIONAL) if (env[name] !== undefined) vars[name] = env[name] as string;
  return vars;
}
