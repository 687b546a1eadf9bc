// The seeded mutation run (test/fuzz/README.md): `npm run fuzz [-- --seed N --frames N --requests N]`.
// Mutates the golden corpus and throws it at a real server: the server must stay up, answer every
// request with a documented status and a typed error, every frame with a typed error or a documented
// close, keep workerd's memory bounded, and never write a secret into its log or its storage.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startDevServer } from "../../launcher/dev-server.ts";
import { serverVars } from "../../launcher/server-vars.ts";
import { CloseCode, ErrorCode, MAX_BODY_BYTES } from "../../protocol/index.ts";
import { freePort } from "../integration/mesh-harness.ts";
import { type Answer, errorCodesOf, loadCorpus, replay, sendHttp, sendSocket, type Target } from "./corpus-replay.ts";
import { mutate, randomGenerator } from "./mutations.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    frames: { type: "string", default: "10000" },
    requests: { type: "string", default: "2000" },
    "rss-mb": { type: "string", default: "1024" },
  },
});
const seed = Number(values.seed ?? Date.now() % 1_000_000);
const framesPerKind = Number(values.frames);
const requestsPerRoute = Number(values.requests);
const rssLimitMb = Number(values["rss-mb"]);
const random = randomGenerator(seed);

const DOCUMENTED_STATUS = new Set([200, 201, 202, 400, 401, 403, 404, 405, 409, 413, 429, 503]);
const DOCUMENTED_CLOSES = new Set<number>([...Object.values(CloseCode), 1000, 1005, 1006, 1008, 1009]);
const violations: string[] = [];
const counts = new Map<string, number>();
const violation = (what: string, input: string): void => {
  if (violations.length < 20) violations.push(`${what}\n    input: ${input.slice(0, 300)}`);
};

function checkHttp(answer: Answer, input: string): void {
  if (answer.kind !== "http") return;
  counts.set(`http ${answer.status}`, (counts.get(`http ${answer.status}`) ?? 0) + 1);
  if (!DOCUMENTED_STATUS.has(answer.status))
    return violation(`undocumented status ${answer.status}: ${answer.text.slice(0, 200)}`, input);
  if (answer.status === 429 && answer.retryAfter === null) violation("429 without Retry-After", input);
  if (answer.status >= 400) {
    const body = answer.body as { error?: { code?: unknown; message?: unknown } } | { jsonrpc?: string };
    const typed =
      "error" in body &&
      body.error !== undefined &&
      (ErrorCode.safeParse(body.error.code).success || "jsonrpc" in body);
    if (!typed) violation(`${answer.status} without a typed error: ${answer.text.slice(0, 200)}`, input);
  }
}

function checkSocket(answer: Answer, input: string): void {
  if (answer.kind !== "socket") return;
  const key = answer.upgrade !== null ? `upgrade ${answer.upgrade}` : `close ${answer.close ?? "open"}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (answer.close !== null && !DOCUMENTED_CLOSES.has(answer.close))
    violation(`undocumented close ${answer.close}`, input);
  for (const frame of answer.frames)
    if (typeof frame !== "object" || frame === null || typeof (frame as { type?: unknown }).type !== "string")
      violation(`an untyped frame: ${JSON.stringify(frame).slice(0, 200)}`, input);
  for (const code of errorCodesOf(answer))
    if (!ErrorCode.safeParse(code).success) violation(`an error frame with unknown code ${code}`, input);
}

/** workerd's resident memory, in MB (the dev server's process group holds it). */
function workerdRssMb(pgid: number): number {
  const table = execFileSync("ps", ["-o", "rss=,comm=", "-g", String(pgid)], { encoding: "utf8" });
  return (
    table
      .split("\n")
      .filter((line) => line.includes("workerd"))
      .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0] ?? 0), 0) / 1024
  );
}

/** Every file under `dir`, for the search for secrets. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function main(): Promise<void> {
  const port = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), "mesh-fuzz-"));
  const secrets = {
    MESH_ORCHESTRATOR_TOKEN: randomBytes(32).toString("base64url"),
    MESH_AGENT_TOKEN: randomBytes(32).toString("base64url"),
  };
  // The run measures answers, not the rate limits: a high rate keeps 429 (itself checked) rare.
  const server = await startDevServer({
    port,
    persistDir,
    vars: { ...serverVars(secrets), MESH_RATE_PER_S: "100000", MESH_RATE_BURST: "100000" },
    output: "pipe",
  });
  let log = "";
  server.process.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  server.process.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const pgid = server.process.pid ?? 0;
  let peakRss = 0;
  try {
    const target: Target = {
      url: server.url,
      taskId: "",
      tokens: {
        orchestrator: secrets.MESH_ORCHESTRATOR_TOKEN,
        agent: secrets.MESH_AGENT_TOKEN,
        viewer: "",
        wrong: "w".repeat(40),
      },
    };
    const task = (await sendHttp(
      target,
      "POST",
      "/api/tasks",
      "orchestrator",
      JSON.stringify({ instruction: "fuzzed", executor: "opus" }),
    )) as Extract<Answer, { kind: "http" }>;
    target.taskId = String((task.body as { task_id?: string }).task_id);
    const link = (await sendHttp(target, "POST", "/api/links", "orchestrator", "{}")) as Extract<
      Answer,
      { kind: "http" }
    >;
    target.tokens.viewer = String((link.body as { token?: string }).token);
    const corpus = loadCorpus();
    const started = Date.now();
    // Requests: each route (a golden HTTP or MCP entry with a body) gets its share of mutated bodies.
    const routes = corpus.filter(
      (c) => c.entry.kind !== "socket" && (c.entry.body !== undefined || c.entry.raw !== undefined),
    );
    for (const { entry } of routes) {
      if (entry.kind === "socket") continue;
      const base = entry.raw ?? JSON.stringify(entry.body);
      const inputs = Array.from({ length: requestsPerRoute }, () => mutate(base, random));
      for (let i = 0; i < inputs.length; i += 16) {
        const batch = inputs.slice(i, i + 16);
        // sendHttp already sends a reset request again once (corpus-replay.ts); an oversized body may still be reset.
        const answers = await Promise.all(
          batch.map((input) =>
            (entry.kind === "mcp"
              ? sendHttp(target, "POST", "/mcp", "orchestrator", input, true)
              : sendHttp(target, entry.method, entry.path, entry.token, input)
            ).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))),
          ),
        );
        for (const [j, answer] of answers.entries()) {
          const input = batch[j] ?? "";
          if (!(answer instanceof Error)) {
            checkHttp(answer, input);
            continue;
          }
          if (Buffer.byteLength(input) > MAX_BODY_BYTES)
            counts.set("reset (oversized)", (counts.get("reset (oversized)") ?? 0) + 1);
          else
            violation(
              `the request failed twice: ${answer.message} (${String((answer as { cause?: unknown }).cause)})`,
              input,
            );
        }
      }
      peakRss = Math.max(peakRss, workerdRssMb(pgid));
    }
    // Frames: per socket kind, mutated frames sent in bursts of 20 on one socket (a flood closes it with 1008, itself
    // documented).
    const kinds = new Map<
      string,
      { path: string; token: "orchestrator" | "agent" | "viewer" | "wrong" | "none"; frames: string[] }
    >();
    for (const { wire, entry } of corpus) {
      if (entry.kind !== "socket" || entry.expect.upgrade !== undefined || entry.frames.length === 0) continue;
      const known = kinds.get(wire) ?? { path: entry.path, token: entry.token, frames: [] };
      known.frames.push(...entry.frames);
      kinds.set(wire, known);
    }
    for (const [wire, kind] of kinds) {
      for (let sent = 0; sent < framesPerKind; sent += 20) {
        const frames = Array.from({ length: 20 }, () => {
          const base = kind.frames[Math.floor(random() * kind.frames.length)] ?? "{}";
          return random() < 0.05 ? Buffer.from(mutate(base, random)) : mutate(base, random);
        });
        checkSocket(
          await sendSocket(target, kind.path, kind.token, frames, 50),
          `${wire}: ${frames.map(String).join(" | ")}`,
        );
      }
      peakRss = Math.max(peakRss, workerdRssMb(pgid));
    }
    // Still up, and the corpus still answers as recorded.
    const health = await sendHttp(target, "GET", "/health", "none", undefined);
    if (health.kind !== "http" || health.status !== 200)
      violation(`/health answered ${health.kind === "http" ? health.status : "?"} after the run`, "(end)");
    const viewer = await replay(target, {
      kind: "socket",
      path: "/parties/task/{task}",
      token: "orchestrator",
      frames: [],
      expect: {},
    });
    if (viewer.kind === "socket" && viewer.frames.length === 0)
      violation("the task room no longer answers a viewer after the run", "(end)");
    if (peakRss > rssLimitMb)
      violation(`workerd's memory reached ${Math.round(peakRss)} MB (bound ${rssLimitMb} MB)`, "(end)");
    // No secret in the server's log or anywhere in its storage.
    const stored = filesUnder(persistDir)
      .map((file) => readFileSync(file).toString("latin1"))
      .join("\n");
    for (const [name, secret] of Object.entries(secrets)) {
      if (log.includes(secret)) violation(`${name} appears in the server's log`, "(end)");
      if (stored.includes(secret)) violation(`${name} appears in the server's storage`, "(end)");
    }
    if (stored.includes("mesh-agent:")) violation("an agent credential appears in the server's storage", "(end)");
    // Every task a mutated create made is a live room under partykit dev (nothing evicts it locally): memory follows
    // the rooms made.
    console.log(
      `fuzz seed ${seed}: ${routes.length} routes × ${requestsPerRoute} requests, ${kinds.size} socket kinds × ${framesPerKind} frames in ${Math.round((Date.now() - started) / 1000)} s; workerd peak ${Math.round(peakRss)} MB (bound ${rssLimitMb} MB) with ${counts.get("http 201") ?? 0} tasks and links created`,
    );
    console.log(
      [...counts.entries()]
        .sort()
        .map(([answer, n]) => `  ${answer.padEnd(14)} ${n}`)
        .join("\n"),
    );
  } finally {
    await server.stop();
    rmSync(persistDir, { recursive: true, force: true });
  }
  if (violations.length > 0) {
    console.error(`fuzz: ${violations.length} violation(s); rerun with --seed ${seed}:\n  ${violations.join("\n  ")}`);
    process.exit(1);
  }
  console.log("fuzz: every answer typed or documented; the server stayed up; no secret in its log or storage");
}

await main();
