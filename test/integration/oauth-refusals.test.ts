// Bad input to the mesh's OAuth endpoints (docs/oauth.md) gets a typed RFC 6749 answer, nothing is
// granted, and each refusal is in the audit log. Codes live 3 s here (MESH_OAUTH_CODE_TTL_S) so the
// expiry is seen without waiting a minute. The mesh runs without MESH_OAUTH_DEV.
import { request } from "node:http";
import {
  discoverAuthorizationServerMetadata,
  registerClient,
  startAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
import type { AuthorizationServerMetadata } from "@modelcontextprotocol/sdk/shared/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OAuthGrantList } from "../../protocol/index.ts";
import { type Mesh, startMesh } from "./mesh-harness.ts";
import { codeOf, consent, MemoryProvider, oauthAudit, oauthClient, postForm, REDIRECT_URI } from "./oauth-client.ts";

let mesh: Mesh;
let metadata: AuthorizationServerMetadata;
let clientId: string;

beforeAll(async () => {
  mesh = await startMesh({ MESH_OAUTH_CODE_TTL_S: "3" });
  metadata = (await discoverAuthorizationServerMetadata(mesh.url)) as AuthorizationServerMetadata;
  clientId = (
    await registerClient(mesh.url, {
      metadata,
      clientMetadata: { client_name: "refusals", redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: "none" },
    })
  ).client_id;
});

afterAll(async () => {
  await mesh?.stop();
});

/** The SDK's authorization request (PKCE S256) approved by the orchestrator: a fresh code and its verifier. */
async function freshCode(): Promise<{ code: string; codeVerifier: string }> {
  const { authorizationUrl, codeVerifier } = await startAuthorization(mesh.url, {
    metadata,
    clientInformation: { client_id: clientId },
    redirectUrl: REDIRECT_URI,
    scope: "mesh:orchestrate",
    state: "s1",
    resource: new URL(`${mesh.url}/mcp`),
  });
  const { answer } = await consent(authorizationUrl, mesh.orchestratorToken);
  const { code } = codeOf(answer);
  if (code === null) throw new Error(`no code: ${answer.status} ${answer.headers.get("location")}`);
  return { code, codeVerifier };
}

const exchange = (code: string, codeVerifier: string) =>
  postForm(`${mesh.url}/oauth/token`, {
    grant_type: "authorization_code",
    code,
    code_verifier: codeVerifier,
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
  });

async function tokens(): Promise<{ access_token: string; refresh_token: string }> {
  const { code, codeVerifier } = await freshCode();
  const answer = await exchange(code, codeVerifier);
  expect(answer.status).toBe(200);
  return answer.body as { access_token: string; refresh_token: string };
}

const mcpStatus = async (token: string): Promise<Response> =>
  fetch(`${mesh.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });

/** A tools/list to the mesh with another `Host` (fetch cannot set one): the edge sees another origin. */
function mcpAsHost(token: string, host: string): Promise<{ status: number; challenge: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const call = request(
      {
        host: "127.0.0.1",
        port: mesh.port,
        path: "/mcp",
        method: "POST",
        headers: {
          host,
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, challenge: String(response.headers["www-authenticate"] ?? "") }),
        );
      },
    );
    call.on("error", reject);
    call.end(body);
  });
}

/** An authorize URL with these parameters (defaults: a good request of the registered client). */
function authorizeUrl(overrides: Record<string, string>): URL {
  const url = new URL(`${mesh.url}/oauth/authorize`);
  const params = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    code_challenge_method: "S256",
    state: "s2",
    ...overrides,
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}

async function audited(since: number, action: string, outcome: string): Promise<boolean> {
  return (await oauthAudit(mesh, since)).some((record) => record.action === action && record.outcome === outcome);
}

describe("the token endpoint refuses", () => {
  it("a wrong code_verifier (invalid_grant), and the code is spent", async () => {
    const since = Date.now();
    const { code, codeVerifier } = await freshCode();
    const wrong = await exchange(code, `${codeVerifier.slice(0, -1)}${codeVerifier.endsWith("A") ? "B" : "A"}`);
    expect(wrong).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(String(wrong.body.error_description)).toMatch(/code_verifier/);
    expect(wrong.headers.get("cache-control")).toBe("no-store");
    expect((await exchange(code, codeVerifier)).body.error).toBe("invalid_grant");
    expect(await audited(since, "oauth.token", "wrong_code_verifier")).toBe(true);
  });

  it("a code used twice, and revokes the tokens its first use issued", async () => {
    const since = Date.now();
    const { code, codeVerifier } = await freshCode();
    const first = await exchange(code, codeVerifier);
    expect(first.status).toBe(200);
    const access = String(first.body.access_token);
    expect((await mcpStatus(access)).status).toBe(200);
    const second = await exchange(code, codeVerifier);
    expect(second).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const after = await mcpStatus(access);
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toContain("resource_metadata=");
    expect(await audited(since, "oauth.token", "code_replay")).toBe(true);
  });

  it("a code raced by five redemptions at once: exactly one gets tokens, and its grant is then revoked by the others", async () => {
    const { code, codeVerifier } = await freshCode();
    const answers = await Promise.all(Array.from({ length: 5 }, () => exchange(code, codeVerifier)));
    expect(answers.filter((answer) => answer.status === 200).length).toBe(1);
    expect(answers.filter((answer) => answer.body.error === "invalid_grant").length).toBe(4);
    const winner = answers.find((answer) => answer.status === 200);
    expect((await mcpStatus(String(winner?.body.access_token))).status).toBe(401);
  });

  it("an expired code", async () => {
    const since = Date.now();
    const { code, codeVerifier } = await freshCode();
    await new Promise((done) => setTimeout(done, 3500));
    const expired = await exchange(code, codeVerifier);
    expect(expired).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect(String(expired.body.error_description)).toMatch(/expired/);
    expect(await audited(since, "oauth.token", "code_expired")).toBe(true);
  });

  it("an unknown client (invalid_client, 401) and an unsupported grant type", async () => {
    const since = Date.now();
    const unknown = await postForm(`${mesh.url}/oauth/token`, {
      grant_type: "authorization_code",
      code: "mac_x",
      code_verifier: "a".repeat(43),
      client_id: "mcl_nobody",
      redirect_uri: REDIRECT_URI,
    });
    expect(unknown).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    const grantType = await postForm(`${mesh.url}/oauth/token`, {
      grant_type: "client_credentials",
      client_id: clientId,
    });
    expect(grantType).toMatchObject({ status: 400, body: { error: "unsupported_grant_type" } });
    expect(await audited(since, "oauth.token", "invalid_client")).toBe(true);
    expect(await audited(since, "oauth.token", "unsupported_grant_type")).toBe(true);
  });

  it("a refresh token used twice: the whole grant is revoked", async () => {
    const since = Date.now();
    const first = await tokens();
    const refresh = (token: string) =>
      postForm(`${mesh.url}/oauth/token`, { grant_type: "refresh_token", refresh_token: token, client_id: clientId });
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(first.refresh_token);
    const replay = await refresh(first.refresh_token);
    expect(replay).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect((await refresh(String(rotated.body.refresh_token))).body.error).toBe("invalid_grant");
    expect((await mcpStatus(String(rotated.body.access_token))).status).toBe(401);
    expect(await audited(since, "oauth.refresh", "refresh_replay")).toBe(true);
  });
});

describe("the authorization endpoint refuses", () => {
  it("a redirect_uri the client did not register (shown, never redirected)", async () => {
    const since = Date.now();
    const response = await fetch(authorizeUrl({ redirect_uri: "https://attacker.example/cb" }), { redirect: "manual" });
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
    expect(await audited(since, "oauth.authorize", "invalid_request")).toBe(true);
  });

  it("code_challenge_method=plain and a bad response_type (sent back to the client); unknown scope words are ignored, not granted", async () => {
    const since = Date.now();
    const plain = await fetch(authorizeUrl({ code_challenge_method: "plain", code_challenge: "a".repeat(43) }), {
      redirect: "manual",
    });
    expect(plain.status).toBe(302);
    expect(codeOf(plain)).toMatchObject({ error: "invalid_request", code: null, state: "s2" });
    const token = await fetch(authorizeUrl({ response_type: "token" }), { redirect: "manual" });
    expect(codeOf(token)).toMatchObject({ error: "unsupported_response_type", code: null });
    const scope = await fetch(authorizeUrl({ scope: "mesh:admin mesh:read" }), { redirect: "manual" });
    expect(scope.status).toBe(200);
    const page = await scope.text();
    expect(page).toContain("mesh:read");
    expect(page).not.toContain("mesh:admin");
    expect(await audited(since, "oauth.authorize", "invalid_request")).toBe(true);
    expect(await audited(since, "oauth.authorize", "unsupported_response_type")).toBe(true);
  });

  it("a client registered with a secret (client_secret_post, as Claude.ai asks) must present it at the token endpoint", async () => {
    const since = Date.now();
    const confidential = await registerClient(mesh.url, {
      metadata,
      clientMetadata: {
        client_name: "confidential",
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: "client_secret_post",
      },
    });
    expect(confidential.client_secret).toMatch(/^mcs_/);
    expect(confidential.token_endpoint_auth_method).toBe("client_secret_post");
    const { authorizationUrl, codeVerifier } = await startAuthorization(mesh.url, {
      metadata,
      clientInformation: confidential,
      redirectUrl: REDIRECT_URI,
      scope: "mesh:orchestrate",
      state: "s4",
    });
    const { answer } = await consent(authorizationUrl, mesh.orchestratorToken);
    const code = codeOf(answer).code ?? "";
    const form = {
      grant_type: "authorization_code",
      code,
      code_verifier: codeVerifier,
      client_id: confidential.client_id,
      redirect_uri: REDIRECT_URI,
    };
    expect(await postForm(`${mesh.url}/oauth/token`, form)).toMatchObject({
      status: 401,
      body: { error: "invalid_client" },
    });
    expect(await postForm(`${mesh.url}/oauth/token`, { ...form, client_secret: "mcs_wrong" })).toMatchObject({
      status: 401,
      body: { error: "invalid_client" },
    });
    expect(
      (await postForm(`${mesh.url}/oauth/token`, { ...form, client_secret: confidential.client_secret ?? "" })).status,
    ).toBe(200);
    expect(await audited(since, "oauth.token", "invalid_client")).toBe(true);
  });

  it("an unknown client, a client metadata URL over http, and one on a private address (invalid_client)", async () => {
    const since = Date.now();
    for (const client of [
      "mcl_nobody",
      "http://127.0.0.1:9/client.json",
      "https://10.1.2.3/client.json",
      "https://[fd00::1]/client.json",
      "not-a-client",
    ]) {
      const response = await fetch(authorizeUrl({ client_id: client }), { redirect: "manual" });
      expect(response.status, client).toBe(401);
      expect(await response.json(), client).toMatchObject({ error: "invalid_client" });
    }
    expect(
      (await oauthAudit(mesh, since)).filter(
        (record) => record.action === "oauth.authorize" && record.outcome === "invalid_client",
      ).length,
    ).toBe(5);
  });

  it("a wrong credential re-shows the page with an error and grants nothing; deny sends access_denied", async () => {
    const since = Date.now();
    const wrong = await consent(authorizeUrl({}), "not-the-token");
    expect(wrong.answer.status).toBe(401);
    expect(wrong.answerText).toMatch(/nothing was granted/);
    expect(wrong.answer.headers.get("location")).toBeNull();
    const denied = await consent(authorizeUrl({}), "", "deny");
    expect(codeOf(denied.answer)).toMatchObject({ error: "access_denied", code: null, state: "s2" });
    expect(await audited(since, "oauth.consent", "unauthorized")).toBe(true);
    expect(await audited(since, "oauth.consent", "access_denied")).toBe(true);
  });

  it("an operator link grants reading only", async () => {
    const link = await mesh.api<{ token?: string; url?: string }>("/api/links", {
      method: "POST",
      body: { operator: true },
    });
    const operatorToken = String(link.body.token);
    const { authorizationUrl, codeVerifier } = await startAuthorization(mesh.url, {
      metadata,
      clientInformation: { client_id: clientId },
      redirectUrl: REDIRECT_URI,
      scope: "mesh:orchestrate mesh:read",
      state: "s3",
    });
    const { answer } = await consent(authorizationUrl, operatorToken);
    const granted = await exchange(codeOf(answer).code ?? "", codeVerifier);
    expect(granted).toMatchObject({ status: 200, body: { scope: "mesh:read" } });
  });

  it("registration with a non-loopback http redirect URI (invalid_redirect_uri) or an authentication method the mesh lacks", async () => {
    const register = (body: unknown) =>
      fetch(`${mesh.url}/oauth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const http = await register({ redirect_uris: ["http://example.com/cb"] });
    expect(http.status).toBe(400);
    expect(await http.json()).toMatchObject({ error: "invalid_redirect_uri" });
    const secret = await register({
      redirect_uris: ["https://example.com/cb"],
      token_endpoint_auth_method: "private_key_jwt",
    });
    expect(await secret.json()).toMatchObject({ error: "invalid_client_metadata" });
  });
});

describe("an access token", () => {
  it("is refused by the HTTP API and by another resource (another origin's /mcp)", async () => {
    const since = Date.now();
    const { access_token } = await tokens();
    expect((await mcpStatus(access_token)).status).toBe(200);
    const api = await mesh.api("/api/tasks", { token: access_token });
    expect(api.status).toBe(401);
    expect(api.body.error?.code).toBe("unauthorized");
    // The same server under another name serves another resource: the token is not for it.
    const elsewhere = await mcpAsHost(access_token, "mesh.elsewhere.test:8443");
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.challenge).toContain(
      'resource_metadata="http://mesh.elsewhere.test:8443/.well-known/oauth-protected-resource/mcp"',
    );
    expect(await audited(since, "oauth.access", "wrong_resource")).toBe(true);
  });

  it("of a grant revoked mid-session gets 401 with the challenge on the next MCP call", async () => {
    const since = Date.now();
    const provider = new MemoryProvider();
    const first = oauthClient(mesh, provider);
    await first.client.connect(first.transport).catch(() => undefined);
    const { answer } = await consent(provider.authorizationUrl as URL, mesh.orchestratorToken);
    await first.transport.finishAuth(codeOf(answer).code ?? "");
    const { client, transport } = oauthClient(mesh, provider);
    await client.connect(transport);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const grants = await mesh.api<OAuthGrantList>("/api/oauth/grants");
    const grant = grants.body.grants.find((g) => g.client_id === provider.clientId);
    expect(grant).toBeDefined();
    const deleted = await mesh.api(`/api/oauth/grants/${grant?.id}`, { method: "DELETE" });
    expect(deleted).toMatchObject({ status: 200, body: { revoked: grant?.id } });
    expect((await mesh.api(`/api/oauth/grants/${grant?.id}`, { method: "DELETE" })).status).toBe(404);
    const after = await mcpStatus(provider.saved?.access_token ?? "");
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toMatch(
      /^Bearer .*resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    // The SDK's client answers the 401 with a refresh, which the revoked grant refuses: no way back in without a
    // person.
    await expect(client.listTools()).rejects.toThrow();
    expect(await audited(since, "oauth.grant.revoke", "ok")).toBe(true);
    expect(await audited(since, "oauth.access", "invalid_token")).toBe(true);
  });

  it("cannot list or revoke grants itself (the grants API wants the orchestrator token or an operator link)", async () => {
    const { access_token } = await tokens();
    expect((await mesh.api("/api/oauth/grants", { token: access_token })).status).toBe(401);
    expect((await mesh.api("/api/oauth/grants", { token: null })).status).toBe(401);
  });
});
