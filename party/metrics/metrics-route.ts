import type * as Party from "partykit/server";
import { METRICS_TOKEN_SETTING, metricsTokenProblem } from "../../protocol/metrics.ts";
import { readSecrets, sameSecret } from "../auth/credentials.ts";
import { bearerToken } from "../edge/api-routes.ts";
import { refuseRequest } from "../http/refuse-request.ts";
import { errorResponse } from "../http/responses.ts";
import { admitRequest, requestLimitsFrom } from "../limits/request-limits.ts";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./exposition.ts";
import { meshFamilies } from "./mesh-metrics.ts";
import { gatherReadings } from "./metrics-readings.ts";

/**
 * Who may scrape (from the Authorization header only: scrape URLs end up in logs): the orchestrator token, or
 * MESH_METRICS_TOKEN when it is set and long enough. Null: neither.
 */
async function scraper(
  token: string | null,
  orchestratorToken: string,
  env: Record<string, unknown>,
): Promise<"orchestrator" | "metrics" | null> {
  if (token === null || token === "") return null;
  if (await sameSecret(token, orchestratorToken)) return "orchestrator";
  const metricsToken =
    typeof env[METRICS_TOKEN_SETTING] === "string" ? (env[METRICS_TOKEN_SETTING] as string) : undefined;
  if (metricsToken === undefined || metricsToken === "" || metricsTokenProblem(metricsToken) !== null) return null;
  return (await sameSecret(token, metricsToken)) ? "metrics" : null;
}

/**
 * `GET /metrics` (docs/metrics.md): the mesh's series in the Prometheus text format. Refused like the
 * API: 503 without usable secrets, 429 past the credential's rate, 401 without a scrape credential.
 */
export async function serveMetrics(request: Request, lobby: Party.FetchLobby): Promise<Response> {
  const secrets = readSecrets(lobby.env);
  if ("code" in secrets) return refuseRequest(request, errorResponse(secrets.code, secrets.message));
  const who = await scraper(bearerToken(request), secrets.orchestratorToken, lobby.env);
  const retryAfterS = admitRequest(who ?? "anonymous", Date.now(), requestLimitsFrom(lobby.env));
  if (retryAfterS !== null) {
    const refusal = errorResponse(
      "rate_limited",
      `too many requests from this credential; wait ${retryAfterS} s (Retry-After)`,
    );
    refusal.headers.set("retry-after", String(retryAfterS));
    return refuseRequest(request, refusal);
  }
  if (who === null) {
    const refusal = errorResponse(
      "unauthorized",
      `missing or wrong token; send 'Authorization: Bearer <${METRICS_TOKEN_SETTING} or the orchestrator token>'`,
    );
    refusal.headers.set("www-authenticate", 'Bearer realm="agent-mesh metrics"');
    return refuseRequest(request, refusal);
  }
  if (request.method !== "GET" && request.method !== "HEAD")
    return refuseRequest(
      request,
      errorResponse("not_found", `${request.method} /metrics is not served; scrape it with GET`),
    );
  const text = renderExposition(meshFamilies(await gatherReadings(lobby.parties, secrets.orchestratorToken)));
  return new Response(request.method === "HEAD" ? null : text, {
    headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" },
  });
}
