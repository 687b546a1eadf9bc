// Remote MCP clients over OAuth 2.1 (docs/oauth.md), end to end against the real mesh with the MCP
// SDK's own client auth (`auth()` through StreamableHTTPClientTransport's authProvider): 401 →
// metadata discovery → registration (or a client metadata document served here) → the consent page
// (this test plays the person) → code → token → tools → refresh → revoke → 401.
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OAuthGrantList, TaskView } from "../../protocol/index.ts";
import { FIXTURES, freePort, type Mesh, startAgent, startMesh, type TestAgent } from "./mesh-harness.ts";
import { codeOf, consent, MemoryProvider, oauthAudit, oauthClient, postForm, REDIRECT_URI } from "./oauth-client.ts";

let mesh: Mesh;
let agent: TestAgent;
let documents: Server;
let documentBase: string;

/** What the test's document server answers at each path: a client metadata document, or a trap. */
function serveDocuments(port: number): Server {
  return createServer((request, response) => {
    const url = `http://127.0.0.1:${port}${request.url ?? "/"}`;
    const document = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        client_id: url,
        client_name: "Metadata Document Client",
        redirect_uris: [REDIRECT_URI],
        ...extra,
      });
    if (request.url === "/client.json")
      return void response.writeHead(200, { "content-type": "application/json" }).end(document());
    if (request.url === "/redirects.json")
      return void response.writeHead(302, { location: `http://127.0.0.1:${port}/client.json` }).end();
    if (request.url === "/large.json")
      return void response
        .writeHead(200, { "content-type": "application/json" })
        .end(document({ padding: "x".repeat(6000) }));
    if (request.url === "/slow.json") return void setTimeout(() => response.writeHead(200).end(document()), 6000);
    response.writeHead(404).end();
  });
}

beforeAll(async () => {
  const port = await freePort();
  documents = serveDocuments(port);
  await new Promise<void>((done) => documents.listen(port, "127.0.0.1", done));
  documentBase = `http://127.0.0.1:${port}`;
  mesh = await startMesh({ MESH_OAUTH_DEV: "1" });
  agent = await startAgent(mesh, "vm-oauth", {
    executors: {
      deepseek: {
        command: [process.execPath, join(FIXTURES, "print-lines.mjs"), "3", "0", "5", "10"],
        format: "text",
        timeout_s: 60,
      },
    },
  });
});

afterAll(async () => {
  await agent?.stop();
  await mesh?.stop();
  documents?.closeAllConnections();
  await new Promise((done) => (documents ? documents.close(done) : done(undefined)));
});

/** Runs the SDK's flow up to the code, plays the person, and finishes it: the provider then holds tokens. */
async function authorize(provider: MemoryProvider, credential = mesh.orchestratorToken): Promise<void> {
  const first = oauthClient(mesh, provider);
  await expect(first.client.connect(first.transport)).rejects.toThrow(UnauthorizedError);
  expect(provider.authorizationUrl).not.toBeNull();
  const { answer } = await consent(provider.authorizationUrl as URL, credential);
  expect(answer.status).toBe(302);
  const { code, state } = codeOf(answer);
  expect(state).toBe("state-123");
  expect(code).toMatch(/^mac_/);
  await first.transport.finishAuth(code as string);
  expect(provider.saved?.access_token).toMatch(/^mat_/);
}

describe("OAuth 2.1 with the MCP SDK client", () => {
  it("publishes the metadata, and a 401 from /mcp names it in its challenge", async () => {
    const unauthenticated = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: "{}",
    });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("www-authenticate")).toContain(
      `resource_metadata="${mesh.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(unauthenticated.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const resource = (await (await fetch(`${mesh.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<
      string,
      unknown
    >;
    expect(resource).toMatchObject({
      resource: `${mesh.url}/mcp`,
      authorization_servers: [mesh.url],
      scopes_supported: ["mesh:orchestrate", "mesh:read"],
      bearer_methods_supported: ["header"],
    });
    expect(await (await fetch(`${mesh.url}/.well-known/oauth-protected-resource`)).json()).toEqual(resource);
    const server = (await (await fetch(`${mesh.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(server).toMatchObject({
      issuer: mesh.url,
      authorization_endpoint: `${mesh.url}/oauth/authorize`,
      token_endpoint: `${mesh.url}/oauth/token`,
      registration_endpoint: `${mesh.url}/oauth/register`,
      revocation_endpoint: `${mesh.url}/oauth/revoke`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      client_id_metadata_document_supported: true,
    });
    expect(server.token_endpoint_auth_methods_supported).toContain("none");
  });

  it("registers, consents, exchanges, runs tools/list and execute, refreshes, revokes, and is then refused with the challenge", async () => {
    const since = Date.now();
    const provider = new MemoryProvider();
    await authorize(provider);
    expect(provider.clientId).toMatch(/^mcl_/);
    const { client, transport } = oauthClient(mesh, provider);
    await client.connect(transport);
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toEqual(expect.arrayContaining(["execute", "dispatch", "cancel", "list_tasks", "result"]));
    const executed = (await client.callTool(
      { name: "execute", arguments: { instruction: "say three lines", wait_s: 30 } },
      undefined,
      { timeout: 60_000 },
    )) as CallToolResult;
    expect(executed.isError).toBeFalsy();
    expect((executed.structuredContent as TaskView).status).toBe("succeeded");

    const grants = await mesh.api<OAuthGrantList>("/api/oauth/grants");
    expect(grants.status).toBe(200);
    const grant = grants.body.grants.find((g) => g.client_id === provider.clientId);
    expect(grant).toMatchObject({
      client_name: "oauth test client",
      scope: ["mesh:orchestrate", "mesh:read"],
      redirect_host: "127.0.0.1:9",
    });
    expect(grant?.last_used_at).toBeGreaterThanOrEqual(grant?.created_at ?? Infinity);

    // Refresh through the SDK: new tokens, the old access token is gone, the new one works.
    const before = provider.saved;
    expect(await auth(provider, { serverUrl: new URL(`${mesh.url}/mcp`) })).toBe("AUTHORIZED");
    expect(provider.saved?.refresh_token).not.toBe(before?.refresh_token);
    expect(provider.saved?.access_token).not.toBe(before?.access_token);
    const stale = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${before?.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(stale.status).toBe(401);
    const again = oauthClient(mesh, provider);
    await again.client.connect(again.transport);
    expect((await again.client.listTools()).tools.length).toBeGreaterThan(5);

    // RFC 7009: revoking the access token ends the grant; the next call is 401 with the challenge.
    const revoked = await postForm(`${mesh.url}/oauth/revoke`, {
      token: provider.saved?.access_token ?? "",
      client_id: provider.clientId ?? "",
    });
    expect(revoked.status).toBe(200);
    const after = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${provider.saved?.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toContain("resource_metadata=");
    const refreshAfter = await postForm(`${mesh.url}/oauth/token`, {
      grant_type: "refresh_token",
      refresh_token: provider.saved?.refresh_token ?? "",
      client_id: provider.clientId ?? "",
    });
    expect(refreshAfter).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(
      (await mesh.api<OAuthGrantList>("/api/oauth/grants")).body.grants.some((g) => g.client_id === provider.clientId),
    ).toBe(false);
    await client.close();
    await again.client.close();

    const actions = (await oauthAudit(mesh, since)).map((record) => `${record.action}:${record.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        "oauth.register:ok",
        "oauth.grant:ok",
        "oauth.token:ok",
        "oauth.refresh:ok",
        "oauth.revoke:ok",
        "oauth.access:invalid_token",
      ]),
    );
  });

  it("a mesh:read grant lists and calls only the read-only tools", async () => {
    const provider = new MemoryProvider({ scope: "mesh:read" });
    // The SDK asks for the resource's scopes_supported unless told otherwise: pass the scope the person means.
    const first = oauthClient(mesh, provider);
    await expect(first.client.connect(first.transport)).rejects.toThrow(UnauthorizedError);
    const asked = new URL(provider.authorizationUrl as unknown as URL);
    asked.searchParams.set("scope", "mesh:read");
    const { answer } = await consent(asked, mesh.orchestratorToken);
    await first.transport.finishAuth(codeOf(answer).code as string);
    expect(provider.saved?.scope).toBe("mesh:read");
    const { client, transport } = oauthClient(mesh, provider);
    await client.connect(transport);
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toEqual(
      expect.arrayContaining(["list_tasks", "result", "logs", "list_agents", "budget_status", "diff"]),
    );
    for (const writer of ["execute", "dispatch", "cancel", "resolve", "revoke_agent", "plan", "apply"])
      expect(tools).not.toContain(writer);
    const refused = (await client.callTool({ name: "execute", arguments: { instruction: "nope" } })) as CallToolResult;
    expect(refused.isError).toBe(true);
    await client.close();
  });

  it("a client that registers with a secret (client_secret_basic) goes through the same flow, the SDK sending its secret", async () => {
    const provider = new MemoryProvider({ authMethod: "client_secret_basic" });
    await authorize(provider);
    const { client, transport } = oauthClient(mesh, provider);
    await client.connect(transport);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("execute");
    expect(await auth(provider, { serverUrl: new URL(`${mesh.url}/mcp`) })).toBe("AUTHORIZED");
    await client.close();
  });

  it("a client metadata document served over loopback http (MESH_OAUTH_DEV=1) goes through the same flow", async () => {
    const since = Date.now();
    const clientId = `${documentBase}/client.json`;
    const provider = new MemoryProvider({ clientId });
    await authorize(provider);
    const { client, transport } = oauthClient(mesh, provider);
    await client.connect(transport);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain("execute");
    await client.close();
    const grant = (await mesh.api<OAuthGrantList>("/api/oauth/grants")).body.grants.find(
      (g) => g.client_id === clientId,
    );
    expect(grant?.client_name).toBe("Metadata Document Client");
    expect(
      (await oauthAudit(mesh, since)).some(
        (record) => record.action === "oauth.grant" && record.target?.startsWith(clientId),
      ),
    ).toBe(true);
  });

  it("refuses a client metadata URL that redirects, is too large or too slow, each as invalid_client, audited", async () => {
    const since = Date.now();
    for (const [path, words] of [
      ["/redirects.json", /redirect/],
      ["/large.json", /exceeds 5120 bytes/],
      ["/slow.json", /within 3 s/],
    ] as const) {
      const url = new URL(`${mesh.url}/oauth/authorize`);
      const params = {
        response_type: "code",
        client_id: `${documentBase}${path}`,
        redirect_uri: REDIRECT_URI,
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
        state: "s",
      };
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      const response = await fetch(url, { redirect: "manual" });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: string; error_description: string };
      expect(body.error).toBe("invalid_client");
      expect(body.error_description).toMatch(words);
    }
    const refusals = (await oauthAudit(mesh, since)).filter(
      (record) => record.action === "oauth.authorize" && record.outcome === "invalid_client",
    );
    expect(refusals.length).toBe(3);
  });
});
