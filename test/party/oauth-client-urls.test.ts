// Which client metadata URLs and redirect URIs the mesh accepts (party/oauth/client-metadata-fetch.ts,
// redirect-uris.ts): https outside development, loopback http only with MESH_OAUTH_DEV=1, no literal
// private or loopback hosts outside it.
import { describe, expect, it } from "vitest";
import { checkSettings } from "../../launcher/server-vars.ts";
import { clientUrlProblem, privateHost } from "../../party/oauth/client-metadata-fetch.ts";
import { checkRedirectUris } from "../../party/oauth/redirect-uris.ts";

describe("client metadata URLs", () => {
  it("accepts https with a path", () => {
    expect(clientUrlProblem("https://claude.ai/oauth/mcp-client.json", false)).toBeNull();
  });

  it("refuses http, private and loopback literals, credentials and bare origins outside development", () => {
    for (const url of [
      "http://client.example/c.json",
      "http://127.0.0.1:8000/c.json",
      "https://10.0.0.5/c.json",
      "https://192.168.1.2/c.json",
      "https://172.20.0.1/c.json",
      "https://169.254.169.254/latest",
      "https://[::1]/c.json",
      "https://[fd12::1]/c.json",
      "https://localhost/c.json",
      "https://user:pw@client.example/c.json",
      "https://client.example/",
      "not a url",
    ]) {
      expect(clientUrlProblem(url, false), url).not.toBeNull();
    }
  });

  it("accepts loopback http only under MESH_OAUTH_DEV=1", () => {
    expect(clientUrlProblem("http://127.0.0.1:8000/c.json", true)).toBeNull();
    expect(clientUrlProblem("http://localhost:8000/c.json", true)).toBeNull();
    expect(clientUrlProblem("http://client.example/c.json", true)).not.toBeNull();
  });

  it("tells private hosts from public ones", () => {
    expect(privateHost("8.8.8.8")).toBe(false);
    expect(privateHost("172.32.0.1")).toBe(false);
    expect(privateHost("example.com")).toBe(false);
    expect(privateHost("100.64.0.1")).toBe(true);
    expect(privateHost("[::ffff:7f00:1]")).toBe(true);
  });
});

describe("redirect URIs", () => {
  it("https anywhere, http only on loopback, never a fragment", () => {
    expect(
      checkRedirectUris([
        "https://claude.ai/api/mcp/auth_callback",
        "http://127.0.0.1:33418/callback",
        "http://localhost:6274/oauth/callback",
      ]),
    ).toBeNull();
    expect(checkRedirectUris(["http://example.com/cb"])).not.toBeNull();
    expect(checkRedirectUris(["https://example.com/cb#x"])).not.toBeNull();
    expect(checkRedirectUris(["javascript:alert(1)"])).not.toBeNull();
  });
});

describe("MESH_PUBLIC_URL", () => {
  it("must be an http(s) origin without a path, else the server does not start", () => {
    expect(checkSettings({})).toEqual({ ok: true, value: undefined });
    expect(checkSettings({ MESH_PUBLIC_URL: "https://x.trycloudflare.com" })).toEqual({ ok: true, value: undefined });
    expect(checkSettings({ MESH_PUBLIC_URL: "https://mesh.example/" })).toEqual({ ok: true, value: undefined });
    expect(checkSettings({ MESH_PUBLIC_URL: "https://mesh.example/mcp" })).toMatchObject({
      ok: false,
      error: { code: "public_url_invalid", message: expect.stringMatching(/has a path/) },
    });
    expect(checkSettings({ MESH_PUBLIC_URL: "ftp://mesh.example" })).toMatchObject({
      ok: false,
      error: { code: "public_url_invalid", message: expect.stringMatching(/not an http\(s\) URL/) },
    });
    expect(checkSettings({ MESH_PUBLIC_URL: "mesh.example" })).toMatchObject({
      ok: false,
      error: { code: "public_url_invalid", message: expect.stringMatching(/not an http\(s\) URL/) },
    });
  });
});
