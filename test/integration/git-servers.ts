// Real git servers on loopback for the repository tests (docs/repositories.md): `git daemon` for
// git:// URLs and `git http-backend` behind a small node:http CGI server for smart HTTP, both
// serving (and accepting pushes to) the bare repositories under one root, and logging every request
// so a test can count fetches. Plus bare repositories made from a few files.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { stopGroup } from "../../launcher/dev-server.ts";
import { freePort, waitFor } from "./mesh-harness.ts";

const IDENTITY = [
  "-c",
  "user.email=test@example.com",
  "-c",
  "user.name=test",
  "-c",
  "commit.gpgsign=false",
  "-c",
  "init.defaultBranch=main",
];

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", [...IDENTITY, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
  }).trim();
}

/** A folder of bare repositories the servers serve; `remove` deletes it. */
export function gitRoot(): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), "mesh-git-root-"));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * A bare repository `<root>/<name>.git` whose `main` has one commit with `files` (path → text; a
 * text starting with `#!` is made executable), pushed from a scratch clone. Returns its main sha.
 */
export function bareRepo(root: string, name: string, files: Record<string, string>): string {
  const bare = join(root, `${name}.git`);
  mkdirSync(dirname(bare), { recursive: true });
  git(root, "init", "-q", "--bare", "-b", "main", bare);
  return commitTo(bare, files, "initial");
}

/** Commits `files` on top of the bare repository's `branch` (made when missing) and pushes it; returns the new sha. */
export function commitTo(bare: string, files: Record<string, string>, message: string, branch = "main"): string {
  const work = mkdtempSync(join(tmpdir(), "mesh-git-work-"));
  try {
    git(work, "init", "-q", "-b", branch);
    git(work, "remote", "add", "origin", bare);
    if (git(work, "ls-remote", "origin", `refs/heads/${branch}`) !== "") {
      git(work, "fetch", "-q", "origin", branch);
      git(work, "reset", "-q", "--hard", "FETCH_HEAD");
    }
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), text, { mode: text.startsWith("#!") ? 0o755 : 0o644 });
    }
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", message);
    git(work, "push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    return git(work, "rev-parse", "HEAD");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export type GitServer = {
  /** The URL of `<root>/<name>.git` on this server. */
  url(name: string): string;
  /** Fetches (upload-pack sessions: clone, fetch, ls-remote) of `<name>.git` so far. */
  fetches(name: string): number;
  /** Every request line logged so far. */
  log(): string[];
  stop(): Promise<void>;
};

/** `git daemon` on a free loopback port, serving `root` (pushes allowed), with --verbose request logs. */
export async function startGitDaemon(root: string): Promise<GitServer> {
  const port = await freePort();
  const lines: string[] = [];
  const child: ChildProcess = spawn(
    "git",
    [
      "daemon",
      `--base-path=${root}`,
      "--export-all",
      "--enable=receive-pack",
      `--port=${port}`,
      "--listen=127.0.0.1",
      "--reuseaddr",
      "--verbose",
      "--informative-errors",
      root,
    ],
    { detached: true, stdio: ["ignore", "ignore", "pipe"] },
  );
  let pending = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    const pieces = (pending + chunk.toString("utf8")).split("\n");
    pending = pieces.pop() ?? "";
    lines.push(...pieces);
  });
  await waitFor(
    "git daemon to listen",
    () =>
      lines.some((l) => l.includes("Ready to rumble")) ||
      (child.exitCode !== null ? Promise.reject(new Error(lines.join("\n"))) : false),
    15_000,
  );
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}.git`,
    // "[pid] Request upload-pack for '/<name>.git'"
    fetches: (name) => lines.filter((l) => l.includes(`Request upload-pack for '/${name}.git'`)).length,
    log: () => [...lines],
    stop: () => stopGroup(child),
  };
}

/**
 * `git http-backend` as CGI behind node:http on a free loopback port: smart HTTP, pushes allowed.
 * `basicAuth` ("user:password"): every request without those credentials gets 401, as a private
 * repository answers a client without (or with wrong) credentials.
 */
export async function startSmartHttp(root: string, options: { basicAuth?: string } = {}): Promise<GitServer> {
  const port = await freePort();
  const lines: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", `http://127.0.0.1:${port}`);
    lines.push(`${request.method ?? "GET"} ${url.pathname}${url.search}`);
    if (
      options.basicAuth !== undefined &&
      request.headers.authorization !== `Basic ${Buffer.from(options.basicAuth).toString("base64")}`
    ) {
      response.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end("credentials required\n");
      return;
    }
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "http.receivepack",
        GIT_CONFIG_VALUE_0: "true",
        REQUEST_METHOD: request.method ?? "GET",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ""),
        CONTENT_TYPE: request.headers["content-type"] ?? "",
        ...(request.headers["content-length"] === undefined
          ? {}
          : { CONTENT_LENGTH: request.headers["content-length"] }),
        ...(request.headers["content-encoding"] === undefined
          ? {}
          : { HTTP_CONTENT_ENCODING: request.headers["content-encoding"] }),
        ...(typeof request.headers["git-protocol"] === "string"
          ? { GIT_PROTOCOL: request.headers["git-protocol"] }
          : {}),
        REMOTE_ADDR: "127.0.0.1",
        REMOTE_USER: "test",
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    request.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headerDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headerDone) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headerDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("utf8").split("\r\n")) {
        const at = line.indexOf(":");
        const [name, value] = [line.slice(0, at).trim(), line.slice(at + 1).trim()];
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else response.setHeader(name, value);
      }
      response.statusCode = status;
      response.write(head.subarray(end + 4));
    });
    cgi.on("close", () => {
      if (!headerDone) response.statusCode = 500;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    // Each git session over smart HTTP starts with the ref advertisement of upload-pack.
    fetches: (name) => lines.filter((l) => l === `GET /${name}.git/info/refs?service=git-upload-pack`).length,
    log: () => [...lines],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
