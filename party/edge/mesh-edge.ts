import type * as Party from "partykit/server";
import { PROTOCOL_VERSION } from "../../protocol/index.ts";
import { METRICS_PATH } from "../../protocol/metrics.ts";
import { readSecrets } from "../auth/credentials.ts";
import { errorResponse, json } from "../http/responses.ts";
import { handleMcp, MCP_PATH } from "../mcp/mcp-endpoint.ts";
import { serveMetrics } from "../metrics/metrics-route.ts";
import { routeOAuth } from "../oauth/oauth-routes.ts";
import { standardRequest } from "../platform-request.ts";
import { routeApi } from "./api-routes.ts";

/**
 * The mesh's front door (the project's main party): `GET /health`, `GET /metrics` (docs/metrics.md), the authenticated
 * HTTP API under `/api/`, the MCP endpoint `POST /mcp`, and the OAuth authorization server in front of it
 * (`/.well-known/…`, `/oauth/…`; docs/oauth.md). It holds no state: every route calls the room that owns the data. Its
 * own room instances are not used, so sockets to it are refused.
 */
export default class MeshEdge implements Party.Server {
  constructor(readonly room: Party.Room) {}

  static async onFetch(
    request: Party.Request,
    lobby: Party.FetchLobby,
    ctx: Party.ExecutionContext,
  ): Promise<Response | null> {
    const defer = (work: Promise<unknown>): void => ctx.waitUntil(work);
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      // Never healthy and broken: without usable secrets every other route would refuse (docs/settings.md).
      const secrets = readSecrets(lobby.env);
      if ("code" in secrets)
        return json({ ok: false, service: "agent-mesh", protocol_version: PROTOCOL_VERSION, error: secrets }, 503);
      return json({ ok: true, service: "agent-mesh", protocol_version: PROTOCOL_VERSION });
    }
    const standard = standardRequest(request);
    if (url.pathname === METRICS_PATH) return serveMetrics(standard, lobby);
    const oauth = await routeOAuth(standard, url, lobby, defer);
    if (oauth !== null) return oauth;
    if (url.pathname === MCP_PATH) return handleMcp(standard, url, lobby, defer);
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
      return routeApi(standard, url, lobby, defer);
    }
    return null;
  }

  static async onBeforeConnect(): Promise<Response> {
    return errorResponse(
      "not_found",
      "connect to a task room (/parties/task/<id>), the fleet feed (/parties/fleet/main) or, for agents, the registry (/parties/registry/main)",
    );
  }

  onRequest(): Response {
    return errorResponse("not_found", "no such route; see GET /health and /api/tasks");
  }
}

MeshEdge satisfies Party.Worker;
