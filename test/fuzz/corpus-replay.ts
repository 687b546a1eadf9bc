// Loads the golden corpus (test/fuzz/corpus/<wire>/<what it shows>.json) and replays one entry against a
// real server: the corpus test checks the recorded answers, the mutation run checks mutated ones.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { z } from "zod";
import { ErrorCode } from "../../protocol/index.ts";

export const CORPUS_DIR = join(import.meta.dirname, "corpus");

/** Which credential an entry presents: resolved to a real one by the runner. */
const TokenKind = z.enum(["orchestrator", "agent", "viewer", "wrong", "none"]);
export type TokenKind = z.infer<typeof TokenKind>;

export const CorpusEntry = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("http"),
    method: z.string(),
    path: z.string(),
    token: TokenKind,
    body: z.unknown().optional(),
    raw: z.string().optional(),
    expect: z.object({ status: z.number(), code: ErrorCode.optional() }),
  }),
  z.object({
    kind: z.literal("mcp"),
    body: z.unknown().optional(),
    raw: z.string().optional(),
    expect: z.object({ status: z.number(), rpc: z.number().optional() }),
  }),
  z.object({
    kind: z.literal("socket"),
    path: z.string(),
    token: TokenKind,
    frames: z.array(z.string()),
    expect: z.object({
      upgrade: z.number().optional(),
      errors: z.array(ErrorCode).optional(),
      types: z.array(z.string()).optional(),
      close: z.number().optional(),
    }),
  }),
]);
export type CorpusEntry = z.infer<typeof CorpusEntry>;

export type NamedEntry = { wire: string; name: string; entry: CorpusEntry };

/** Every golden file, by wire and name; a file that does not parse is an error here, not a skipped case. */
export function loadCorpus(): NamedEntry[] {
  return readdirSync(CORPUS_DIR)
    .sort()
    .flatMap((wire) =>
      readdirSync(join(CORPUS_DIR, wire))
        .filter((file) => file.endsWith(".json"))
        .sort()
        .map((file) => ({
          wire,
          name: file.replace(/\.json$/, ""),
          entry: CorpusEntry.parse(JSON.parse(readFileSync(join(CORPUS_DIR, wire, file), "utf8"))),
        })),
    );
}

/** The server and the credentials an entry's token kinds stand for; `{task}` in paths is `taskId`. */
export type Target = { url: string; tokens: Record<Exclude<TokenKind, "none">, string>; taskId: string };

const tokenOf = (target: Target, kind: TokenKind): string | null => (kind === "none" ? null : target.tokens[kind]);
const pathOf = (target: Target, path: string): string => path.replaceAll("{task}", target.taskId);

/** What the server answered: an HTTP status and body, or a socket's upgrade status, frames and close code. */
export type Answer =
  | { kind: "http"; status: number; retryAfter: string | null; body: unknown; text: string }
  | { kind: "socket"; upgrade: number | null; frames: unknown[]; close: number | null };

/**
 * The server answers an oversized body 413 at once and closes that connection; fetch's pool may have
 * put the next request on it, which is then reset while being written (never processed). Such a
 * request is sent again once, as a client would.
 */
export async function sendHttp(
  target: Target,
  method: string,
  path: string,
  token: TokenKind,
  payload: string | undefined,
  mcp = false,
): Promise<Answer> {
  try {
    return await sendHttpOnce(target, method, path, token, payload, mcp);
  } catch (error) {
    if (!String((error as { cause?: unknown }).cause).includes("ECONNRESET")) throw error;
    return sendHttpOnce(target, method, path, token, payload, mcp);
  }
}

async function sendHttpOnce(
  target: Target,
  method: string,
  path: string,
  token: TokenKind,
  payload: string | undefined,
  mcp: boolean,
): Promise<Answer> {
  const credential = tokenOf(target, token);
  const response = await fetch(`${target.url}${pathOf(target, path)}`, {
    method,
    headers: {
      ...(credential === null ? {} : { authorization: `Bearer ${credential}` }),
      "content-type": "application/json",
      ...(mcp ? { accept: "application/json, text/event-stream" } : {}),
    },
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // An SSE stream or plain text: kept as text.
  }
  return { kind: "http", status: response.status, retryAfter: response.headers.get("retry-after"), body, text };
}

/** Opens a socket, sends the frames, and collects what comes back until it closes or `settleMs` passes quietly. */
export function sendSocket(
  target: Target,
  path: string,
  token: TokenKind,
  frames: readonly (string | Buffer)[],
  settleMs = 300,
): Promise<Answer> {
  const credential = tokenOf(target, token);
  const url = `${target.url.replace(/^http/, "ws")}${pathOf(target, path)}${credential === null ? "" : `?token=${encodeURIComponent(credential)}`}`;
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const received: unknown[] = [];
    let upgrade: number | null = null;
    let done = false;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const finish = (close: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(cap);
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.terminate();
      resolve({ kind: "socket", upgrade, frames: received, close });
    };
    const settle = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(null), settleMs);
    };
    const cap = setTimeout(() => finish(null), 10_000);
    socket.on("unexpected-response", (_request, response) => {
      upgrade = response.statusCode ?? null;
      finish(null);
    });
    socket.on("error", () => finish(null));
    socket.on("open", () => {
      for (const frame of frames) socket.send(frame);
      settle();
    });
    socket.on("message", (raw) => {
      const text = raw.toString();
      try {
        received.push(JSON.parse(text));
      } catch {
        received.push(text);
      }
      settle();
    });
    socket.on("close", (code) => finish(code));
  });
}

export function replay(target: Target, entry: CorpusEntry, settleMs?: number): Promise<Answer> {
  switch (entry.kind) {
    case "http":
      return sendHttp(
        target,
        entry.method,
        entry.path,
        entry.token,
        entry.raw ?? (entry.body === undefined ? undefined : JSON.stringify(entry.body)),
      );
    case "mcp":
      return sendHttp(target, "POST", "/mcp", "orchestrator", entry.raw ?? JSON.stringify(entry.body), true);
    case "socket":
      return sendSocket(target, entry.path, entry.token, entry.frames, settleMs);
  }
}

/** The error codes of the `{type:"error"}` frames an answer holds. */
export function errorCodesOf(answer: Answer): string[] {
  if (answer.kind !== "socket") return [];
  return answer.frames.flatMap((frame) =>
    typeof frame === "object" && frame !== null && (frame as { type?: unknown }).type === "error"
      ? [String((frame as { code?: unknown }).code)]
      : [],
  );
}

export function typesOf(answer: Answer): string[] {
  if (answer.kind !== "socket") return [];
  return answer.frames.map((frame) => String((frame as { type?: unknown } | null)?.type));
}
