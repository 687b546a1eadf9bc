// The scripted model server: the provider APIs the four coding CLIs call (Anthropic Messages,
// OpenAI chat completions and Responses, Gemini), on 127.0.0.1, answering from a script instead of
// a model, so the real CLIs run their success path with no key and no network (README.md here).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { anthropicAnswer, anthropicOffersTools, anthropicToolResults } from "./anthropic-messages.ts";
import { geminiAnswer, geminiOffersTools, geminiTokenCount, geminiToolResults } from "./gemini-content.ts";
import { field, parseJson, text } from "./json-reading.ts";
import { refusal, type Answer } from "./model-answer.ts";
import { chatAnswer, chatOffersTools, chatToolResults } from "./openai-chat.ts";
import { responsesAnswer, responsesOffersTools, responsesToolResults } from "./openai-responses.ts";
import { DEFAULT_USAGE, SIDE_ANSWER, turnAfter, type Turn, type Usage } from "./scripted-turns.ts";

/** One request as the test reads it back. */
export type LoggedRequest = {
  method: string;
  /** Path with its query. */
  path: string;
  /** The model the request named (body or Gemini path), when it named one. */
  model?: string;
  /** What was answered: `write <path>`, `text`, `side` (a request offering no tools), or the refusal. */
  answered: string;
  status: number;
};

export type ModelServer = {
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  readonly requests: LoggedRequest[];
  /** The script answered from now on. */
  turns: Turn[];
  stop(): Promise<void>;
};

export type ModelServerOptions = { turns: Turn[]; usage?: Usage; port?: number };

/** Ports below Linux's ephemeral range, like the mesh's test servers (an outgoing connection cannot hold one). */
const PORTS = { from: 20_000, to: 32_000 };
const GEMINI_PATH = /\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

type Provider = { offersTools(body: unknown): boolean; toolResults(body: unknown): number; answer(body: unknown, turn: Turn, model: string, usage: Usage): Answer };

/** The provider API a POST path belongs to, by its ending (a base URL may add any prefix). */
function providerFor(path: string): { provider: Provider; model?: string } | undefined {
  if (path.endsWith("/messages")) return { provider: { offersTools: anthropicOffersTools, toolResults: anthropicToolResults, answer: (body, turn, model, usage) => anthropicAnswer(turn, model, usage, field(body, "stream") === true) } };
  if (path.endsWith("/chat/completions")) return { provider: { offersTools: chatOffersTools, toolResults: chatToolResults, answer: (body, turn, model, usage) => chatAnswer(turn, model, usage, field(body, "stream") === true) } };
  if (path.endsWith("/responses")) return { provider: { offersTools: responsesOffersTools, toolResults: responsesToolResults, answer: responsesAnswer } };
  const gemini = GEMINI_PATH.exec(path);
  if (gemini !== null && gemini[2] !== "countTokens") {
    const stream = gemini[2] === "streamGenerateContent";
    return { model: gemini[1], provider: { offersTools: geminiOffersTools, toolResults: geminiToolResults, answer: (_body, turn, model, usage) => geminiAnswer(turn, model, usage, stream) } };
  }
  return undefined;
}

/** The answer to one request, and what the log says of it. */
function answerFor(method: string, path: string, raw: string, turns: readonly Turn[], usage: Usage): { answer: Answer; answered: string; model?: string } {
  if ((method === "HEAD" || method === "GET") && path === "/") return { answer: { kind: "json", status: 200, body: { ok: true } }, answered: "health" };
  if (method === "GET" && path.endsWith("/models")) return { answer: { kind: "json", status: 200, body: { object: "list", data: [], models: [] } }, answered: "models" };
  if (method !== "POST") return { answer: refusal(405, `mesh model server: ${method} ${path} is not served (only POST to a model API)`), answered: "refused" };
  const body = parseJson(raw);
  if (GEMINI_PATH.exec(path)?.[2] === "countTokens") return { answer: geminiTokenCount(raw), answered: "count" };
  if (path.endsWith("/messages/count_tokens")) return { answer: { kind: "json", status: 200, body: { input_tokens: Math.ceil(raw.length / 4) } }, answered: "count" };
  const route = providerFor(path);
  if (route === undefined) return { answer: refusal(404, `mesh model server: no model API at ${path} (it serves /v1/messages, /v1/chat/completions, /v1/responses and Gemini's /v1beta/models/<model>:streamGenerateContent)`), answered: "refused" };
  if (body === undefined) return { answer: refusal(400, `mesh model server: the body of POST ${path} is not JSON`), answered: "refused" };
  const model = route.model ?? text(body, "model") ?? "unknown";
  if (!route.provider.offersTools(body)) return { answer: route.provider.answer(body, { text: SIDE_ANSWER }, model, usage), answered: "side", model };
  const turn = turnAfter(turns, route.provider.toolResults(body));
  return { answer: route.provider.answer(body, turn, model, usage), answered: "write" in turn ? `write ${turn.write.path}` : "text", model };
}

function send(response: ServerResponse, answer: Answer): void {
  if (answer.kind === "json") {
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(JSON.stringify(answer.body));
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  for (const event of answer.events) response.write(event);
  response.end();
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
}

/** Starts the server on 127.0.0.1 (a free port from 20000-32000 unless `port` is given). */
export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const usage = options.usage ?? DEFAULT_USAGE;
  const requests: LoggedRequest[] = [];
  const state = { turns: options.turns };
  const server = createServer((request, response) => {
    const method = request.method ?? "GET";
    const path = request.url ?? "/";
    const bare = path.split("?")[0] ?? path;
    readBody(request).then(
      (raw) => {
        const { answer, answered, model } = answerFor(method, bare, raw, state.turns, usage);
        requests.push({ method, path, ...(model === undefined ? {} : { model }), answered, status: answer.kind === "json" ? answer.status : 200 });
        send(response, answer);
      },
      () => response.destroy(),
    );
  });
  // codex tries a WebSocket first: refused at once with a plain 404, so it falls back to HTTP.
  server.on("upgrade", (request: IncomingMessage, socket: Duplex) => {
    requests.push({ method: "UPGRADE", path: request.url ?? "/", answered: "refused", status: 404 });
    socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });
  const candidates = options.port !== undefined ? [options.port] : Array.from({ length: 50 }, () => PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from)));
  let port: number | undefined;
  for (const candidate of candidates) {
    if (await listen(server, candidate)) {
      port = candidate;
      break;
    }
  }
  if (port === undefined) throw new Error(`mesh model server: no free port (tried ${candidates.join(", ")})`);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get turns() {
      return state.turns;
    },
    set turns(turns: Turn[]) {
      state.turns = turns;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
