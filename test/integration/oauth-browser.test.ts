// The OAuth consent page and the dashboard's connected apps in real headless Chromium against the real
// mesh (docs/connect-claude-ai.md). The client is the MCP SDK's own auth functions (registration,
// PKCE, the code exchange); its redirect URI is a loopback HTTP server of this test's, as a desktop
// client's would be. Screenshots go to $MESH_SCREENSHOTS (default ./screenshots).

import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  registerClient,
  startAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { AuthorizationServerMetadata, OAuthClientInformationFull } from "@modelcontextprotocol/sdk/shared/auth.js";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeChromium, launchChromium } from "./headless-chromium.ts";
import { freePort, type Mesh, startMesh, waitFor } from "./mesh-harness.ts";

const SHOTS = resolve(process.env.MESH_SCREENSHOTS ?? "screenshots");
/** A client name written to break out of HTML: the page must show it as text. */
const HOSTILE_NAME = `Evil <script>alert("owned")</script> & 'Co' <img src=x onerror=alert(1)>`;
const SCOPE = "mesh:orchestrate";

let mesh: Mesh;
let browser: BrowserContext;
let callback: Server;
let redirectUri: string;
let metadata: AuthorizationServerMetadata;
let client: OAuthClientInformationFull;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mesh = await startMesh({}, { page: true });
  const port = await freePort();
  callback = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    response.end(`the client received ${request.url ?? ""}`);
  });
  await new Promise<void>((done) => callback.listen(port, "127.0.0.1", done));
  redirectUri = `http://127.0.0.1:${port}/callback`;
  const found = await discoverAuthorizationServerMetadata(mesh.url);
  if (found === undefined) throw new Error("the mesh published no authorization server metadata");
  metadata = found as AuthorizationServerMetadata;
  client = await registerClient(mesh.url, {
    metadata,
    clientMetadata: {
      client_name: HOSTILE_NAME,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope: SCOPE,
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await closeChromium(browser);
  await mesh?.stop();
  await new Promise((done) => (callback ? callback.close(done) : done(undefined)));
});

/** A fresh authorization request: its URL (the consent page), PKCE verifier and state. */
async function authorization(): Promise<{ url: string; codeVerifier: string; state: string }> {
  const state = `state-${Math.random().toString(36).slice(2)}`;
  const { authorizationUrl, codeVerifier } = await startAuthorization(mesh.url, {
    metadata,
    clientInformation: client,
    redirectUrl: redirectUri,
    scope: SCOPE,
    state,
    resource: new URL(`${mesh.url}/mcp`),
  });
  return { url: authorizationUrl.toString(), codeVerifier, state };
}

/** A page that fails the test on any script error or dialog (an escaped name never opens one). */
async function consentPage(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(url);
  return { page, problems };
}

const landedOn = async (page: Page): Promise<URL> => {
  await page.waitForURL((url) => url.toString().startsWith(redirectUri), { timeout: 15_000 });
  return new URL(page.url());
};

describe("the consent page in Chromium", () => {
  let accessToken = "";

  it("names the client as text, the redirect host and the scope; fits 375 px in both themes", async () => {
    const { url } = await authorization();
    // Served unframeable and without script, as the mesh sends it.
    const served = await fetch(url);
    expect(served.headers.get("x-frame-options")).toBe("DENY");
    expect(served.headers.get("content-security-policy")).toMatch(/default-src 'none';.*frame-ancestors 'none'/);
    const { page, problems } = await consentPage(url);
    expect(await page.getByTestId("consent-client").textContent()).toBe(HOSTILE_NAME);
    expect(await page.getByTestId("consent-redirect-host").textContent()).toBe(new URL(redirectUri).host);
    expect(await page.getByTestId("consent-scopes").textContent()).toContain(
      "mesh:orchestrate — create, cancel and decide tasks, use every MCP tool",
    );
    expect(await page.locator("img").count()).toBe(0);
    // The stylesheet applied under the page's CSP (allowed by its hash): the approve button is the accent.
    expect(await page.locator("button.approve").evaluate((button) => getComputedStyle(button).backgroundColor)).toBe(
      "rgb(11, 95, 214)",
    );
    const credential = page.getByLabel("Orchestrator token or operator link token");
    expect(await credential.getAttribute("type")).toBe("password");
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const width of [1280, 375]) {
        await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
        // Nothing sticks out sideways at a phone's width.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
        await page.screenshot({ path: join(SHOTS, `oauth-consent-${width}-${scheme}.png`), fullPage: true });
      }
    }
    expect(await page.locator("button.approve").evaluate((button) => getComputedStyle(button).backgroundColor)).toBe(
      "rgb(108, 182, 255)",
    );
    // Focus is visible: Tab reaches the credential, then Approve, each with an outline.
    await credential.focus();
    expect(await credential.evaluate((input) => getComputedStyle(input).outlineStyle)).toBe("solid");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows the page again with an error after a wrong credential, grants nothing, then approves from it", async () => {
    const { url, codeVerifier, state } = await authorization();
    const { page, problems } = await consentPage(url);
    const credential = page.getByLabel("Orchestrator token or operator link token");
    await credential.fill("not-the-orchestrator-token");
    await page.getByRole("button", { name: "Approve" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).pathname).toBe("/oauth/authorize");
    expect((await alert.textContent())?.length).toBeGreaterThan(10);
    expect(await page.getByTestId("consent-client").textContent()).toBe(HOSTILE_NAME);
    await page.setViewportSize({ width: 375, height: 812 });
    await page.screenshot({ path: join(SHOTS, "oauth-consent-wrong-credential-375.png"), fullPage: true });
    expect((await mesh.api<{ grants: unknown[] }>("/api/oauth/grants")).body.grants).toEqual([]);

    // The page shown again carries the request: approving from it completes the flow.
    await credential.fill(mesh.orchestratorToken);
    await page.getByRole("button", { name: "Approve" }).click();
    const landed = await landedOn(page);
    expect(landed.searchParams.get("state")).toBe(state);
    const code = landed.searchParams.get("code");
    expect(code).toBeTruthy();
    const tokens = await exchangeAuthorization(mesh.url, {
      metadata,
      clientInformation: client,
      authorizationCode: code ?? "",
      codeVerifier,
      redirectUri,
      resource: new URL(`${mesh.url}/mcp`),
    });
    accessToken = tokens.access_token;
    expect(problems).toEqual([]);
    await page.close();
  });

  it("sends access_denied to the client on deny, no credential needed", async () => {
    const { url, state } = await authorization();
    const { page } = await consentPage(url);
    await page.getByRole("button", { name: "Deny" }).click();
    const landed = await landedOn(page);
    expect(landed.searchParams.get("error")).toBe("access_denied");
    expect(landed.searchParams.get("state")).toBe(state);
    expect(landed.searchParams.get("code")).toBeNull();
    await page.close();
  });

  it("lists the grant on an operator's dashboard; revoking it removes the row and the client's access", async () => {
    expect(accessToken).not.toBe("");
    // The token opens /mcp before the revoke.
    const mcp = new Client({ name: "oauth-browser-test", version: "1.0.0" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${mesh.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
      }),
    );
    expect((await mcp.listTools()).tools.length).toBeGreaterThan(0);
    await mcp.close();

    const operator = (await mesh.api<{ url: string }>("/api/links", { method: "POST", body: { operator: true } })).body
      .url;
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(operator);
    const rows = page.locator('[data-testid="grants"] [data-grant]');
    await waitFor("the grant's row", async () => (await rows.count()) === 1);
    const text = (await rows.first().textContent()) ?? "";
    expect(text).toContain(HOSTILE_NAME);
    expect(text).toContain(SCOPE);
    expect(text).toContain(new URL(redirectUri).host);
    await page.getByTestId("grants-panel").screenshot({ path: join(SHOTS, "oauth-dashboard-grants.png") });
    const revoke = rows.first().getByTestId("grant-revoke");
    await revoke.click();
    expect(await revoke.textContent()).toBe("click again to revoke");
    await revoke.click();
    await waitFor("the row to go", async () => (await rows.count()) === 0);
    expect(await page.getByTestId("grants-outcome").textContent()).toContain("Revoked");
    expect((await mesh.api<{ grants: unknown[] }>("/api/oauth/grants")).body.grants).toEqual([]);

    // The next MCP call with the revoked token is refused with the challenge that starts OAuth again.
    const refused = await fetch(`${mesh.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${accessToken}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain("resource_metadata=");
    await page.close();
  });

  it("shows a watch-only dashboard link no grants and no revoke button", async () => {
    const watch = (await mesh.api<{ url: string }>("/api/links", { method: "POST", body: {} })).body.url;
    const page = await browser.newPage();
    await page.goto(watch);
    await page.getByTestId("grants-panel").waitFor();
    expect(await page.getByTestId("grant-revoke").count()).toBe(0);
    expect(await page.getByTestId("grants").textContent()).toContain("operator links only");
    await page.close();
  });
});
