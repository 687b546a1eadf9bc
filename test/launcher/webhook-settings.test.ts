// A webhook target that is not an http(s) URL, or a plain target without a signing secret, stops
// `npm run server` and `npm start` before anything starts: exit 2 and one line (docs/notifications.md).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";

const token = (): string => randomBytes(32).toString("base64url");

function launch(script: string, env: Record<string, string>) {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "launcher", script), "--port", "1"], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      MESH_ORCHESTRATOR_TOKEN: token(),
      MESH_AGENT_TOKEN: token(),
      ...env,
    },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: run.status, stderr: run.stderr.trim() };
}

describe("webhook settings at start", () => {
  it.each([
    [
      "server.ts",
      "ftp://hooks.example/x",
      /^error: MESH_WEBHOOK_URLS: 'ftp:\/\/hooks\.example\/x' is not an http\(s\) URL/,
    ],
    ["server.ts", "https://ok.example/h,not a url", /^error: MESH_WEBHOOK_URLS: 'not a url' is not an http\(s\) URL/],
    [
      "start.ts",
      "slack+mailto:ops@example.com",
      /^error: MESH_WEBHOOK_URLS: 'slack\+mailto:ops@example\.com' is not an http\(s\) URL/,
    ],
  ])("%s refuses MESH_WEBHOOK_URLS=%s: exit 2, one line", (script, urls, line) => {
    const run = launch(script, { MESH_WEBHOOK_URLS: urls, MESH_WEBHOOK_SECRET: "s3cret" });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(line);
    expect(run.stderr.split("\n")).toHaveLength(1);
  });

  it("refuses a plain target without MESH_WEBHOOK_SECRET (its events could not be signed)", () => {
    const run = launch("server.ts", { MESH_WEBHOOK_URLS: "https://hooks.example/x" });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /^error: MESH_WEBHOOK_URLS names a webhook that is not Slack's, and MESH_WEBHOOK_SECRET is not set/,
    );
    expect(run.stderr.split("\n")).toHaveLength(1);
  });
});
