// The scripted model server: the provider APIs the four coding CLIs call (Anthropic Messages,
// OpenAI chat completions and Responses, Gemini), on 127.0.0.1, answering from a script instead of
// a model, so the real CLIs run their success path with no key and no network. It is also the CLIs'
// proxy: a connection to any other host is logged and refused (README.md here).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { listenOnTestPort, readRequestBody } from "../loopback-ports.ts";
import {
  anthropicAnswer,
  anthropicFailure,
  anthropicOffersTools,
  anthropicPrompt,
  anthropicToolResults,
} from "./anthropic-messages.ts";
import {
  geminiAnswer,
  geminiFailure,
  geminiOffersTools,
  geminiPrompt,
  geminiTokenCount,
  geminiToolResults,
} from "./gemini-content.ts";
import { field, parseJson, text } from "./json-reading.ts";
import { type Answer, refusal } from "./model-answer.ts";
import { chatAnswer, chatOffersTools, chatPrompt, chatToolResults, openAiFailure } from "./openai-chat.ts";
import { responsesAnswer, responsesOffersTools, responsesPrompt, responsesToolResults } from "./openai-responses.ts";
import { PROXY_REFUSAL, PROXY_REFUSAL_TEXT, proxiedTarget } from "./outbound-guard.ts";
import { NO_TEXT, type RequestText } from "./request-text.ts";
import {
  type ApiName,
  DEFAULT_USAGE,
  type ScriptRule,
  SIDE_ANSWER,
  scriptFor,
  type TextTurn,
  type ToolTurn,
  type Turn,
  turnAfter,
  turnLabel,
  type Usage,
} from "./scripted-turns.ts";

/** One request as the test reads it back. */
export type LoggedRequest = {
  method: string;
  /**
   * Path with its query (for a request through the proxy, the path on the server; for a refused outbound one, the URL).
   */
  path: string;
  /** The provider API it called. */
  api?: ApiName;
  /** The model the request named (body or Gemini path), when it named one. */
  model?: string;
  /**
   * What was answered: `write <path>`, `edit <path>`, `read <path>`, `text`, `fail <status>`, `side` (a request
   * offering no tools), `outbound refused`, or `refused`.
   */
  answered: string;
  status: number;
  /**
   * The conversation's user and tool text, joined in order: the evidence, guidance or earlier messages the model saw.
   */
  prompt: string;
  /** How many messages (input items, contents) the conversation carried. */
  messages: number;
  /** The usage this answer reported (a model answer with status 200 only): sum these to know what was served. */
  usage?: Usage;
  /** It came through the proxy (an absolute URI naming the server or PROXY_ONLY_HOST). */
  viaProxy?: true;
  /** For an outbound connection the guard refused: the host (and port) it was for. */
  host?: string;
};

export type ModelServer = {
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  readonly requests: LoggedRequest[];
  /** Connections to other hosts that came through the proxy and were refused (a phone-home). */
  readonly outbound: LoggedRequest[];
  /** The default script answered from now on. */
  turns: Turn[];
  /** Scripts for the requests they match (first match wins), before the default `turns`. */
  scripts: ScriptRule[];
  stop(): Promise<void>;
};

export type ModelServerOptions = { turns: Turn[]; scripts?: ScriptRule[]; usage?: Usage; port?: number };

const GEMINI_PATH = /\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

type Provider = {
  api: ApiName;
  model?: string;
  offersTools(body: unknown): boolean;
  toolResults(body: unknown): number;
  prompt(body: unknown): RequestText;
  answer(body: unknown, turn: ToolTurn | TextTurn, model: string, usage: Usage): Answer;
  failure(status: number, message: string): Answer;
};

/** The provider API a POST path belongs to, by its ending (a base URL may add any prefix). */
function providerFor(path: string): Provider | undefined {
  if (path.endsWith("/messages"))
    return {
      api: "anthropic",
      offersTools: anthropicOffersTools,
      toolResults: anthropicToolResults,
      prompt: anthropicPrompt,
      failure: anthropicFailure,
      answer: (body, turn, model, usage) => anthropicAnswer(turn, model, usage, field(body, "stream") === true),
    };
  if (path.endsWith("/chat/completions"))
    return {
      api: "chat",
      offersTools: chatOffersTools,
      toolResults: chatToolResults,
      prompt: chatPrompt,
      failure: openAiFailure,
      answer: (body, turn, model, usage) => chatAnswer(turn, model, usage, field(body, "stream") === true),
    };
  if (path.endsWith("/responses"))
    return {
      api: "responses",
      offersTools: responsesOffersTools,
      toolResults: responsesToolResults,
      prompt: responsesPrompt,
      failure: openAiFailure,
      answer: responsesAnswer,
    };
  const gemini = GEMINI_PATH.exec(path);
  if (gemini !== null && gemini[2] !== "countTokens") {
    const stream = gemini[2] === "streamGenerateContent";
    return {
      api: "gemini",
      model: gemini[1],
      offersTools: geminiOffersTools,
      toolResults: geminiToolResults,
      prompt: geminiPrompt,
      failure: geminiFailure,
      answer: (_body, turn, model, usage) => geminiAnswer(turn, model, usage, stream),
    };
  }
  return undefined;
}

type Served = { answer: Answer; entry: Omit<LoggedRequest, "method" | "path" | "status">; delayMs: number };
const plain = (answer: Answer, answered: string): Served => ({ answer, entry: { answered, ...NO_TEXT }, delayMs: 0 });

/** The answer to one request, and what the log says of it. */
function answerFor(
  method: string,
  path: string,
  raw: string,
  script: { turns: Turn[]; scripts: ScriptRule[] },
  usage: Usage,
): Served {
  if ((method === "HEAD" || method === "GET") && path === "/")
    return plain({ kind: "json", status: 200, body: { ok: true } }, "health");
  if (method === "GET" && path.endsWith("/models"))
    return plain({ kind: "json", status: 200, body: { object: "list", data: [], models: [] } }, "models");
  if (method !== "POST")
    return plain(
      refusal(405, `mesh model server: ${method} ${path} is not served (only POST to a model API)`),
      "refused",
    );
  const body = parseJson(raw);
  if (GEMINI_PATH.exec(path)?.[2] === "countTokens") return plain(geminiTokenCount(raw), "count");
  if (path.endsWith("/messages/count_tokens"))
    return plain({ kind: "json", status: 200, body: { input_tokens: Math.ceil(raw.length / 4) } }, "count");
  const provider = providerFor(path);
  if (provider === undefined)
    return plain(
      refusal(
        404,
        `mesh model server: no model API at ${path} (it serves /v1/messages, /v1/chat/completions, /v1/responses and Gemini's /v1beta/models/<model>:streamGenerateContent)`,
      ),
      "refused",
    );
  if (body === undefined)
    return plain(refusal(400, `mesh model server: the body of POST ${path} is not JSON`), "refused");
  const model = provider.model ?? text(body, "model") ?? "unknown";
  const said = provider.prompt(body);
  const base = { api: provider.api, model, ...said };
  if (!provider.offersTools(body))
    return {
      answer: provider.answer(body, { text: SIDE_ANSWER }, model, usage),
      entry: { ...base, answered: "side", usage },
      delayMs: 0,
    };
  const turn = turnAfter(
    scriptFor(script.scripts, script.turns, provider.api, said.prompt),
    provider.toolResults(body),
  );
  const delayMs = turn.delayMs ?? 0;
  if ("fail" in turn)
    return {
      answer: provider.failure(
        turn.fail.status,
        turn.fail.message ?? `mesh model server: scripted failure ${turn.fail.status}`,
      ),
      entry: { ...base, answered: turnLabel(turn) },
      delayMs,
    };
  const served = turn.usage ?? usage;
  return {
    answer: provider.answer(body, turn, model, served),
    entry: { ...base, answered: turnLabel(turn), usage: served },
    delayMs,
  };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes the answer; a slow turn waits `delayMs` before each event (and before a JSON body). Stops if the client went
 * away.
 */
async function send(response: ServerResponse, answer: Answer, delayMs: number): Promise<void> {
  if (answer.kind === "json") {
    if (delayMs > 0) await pause(delayMs);
    if (response.destroyed) return;
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(JSON.stringify(answer.body));
    return;
  }
  response.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  for (const event of answer.events) {
    if (delayMs > 0) {
      response.flushHeaders();
      await pause(delayMs);
    }
    if (response.destroyed) return;
    response.write(event);
  }
  response.end();
}

/** Starts the server on 127.0.0.1 (a free port from 20000-32000 unless `port` is given). */
export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const usage = options.usage ?? DEFAULT_USAGE;
  const requests: LoggedRequest[] = [];
  const script = { turns: options.turns, scripts: options.scripts ?? [] };
  const own = { port: 0 };
  const tunnelled = new WeakSet<object>();
  const logOutbound = (method: string, host: string, path: string): void =>
    void requests.push({ method, path, answered: "outbound refused", status: 403, host, ...NO_TEXT });
  const server = createServer((request, response) => {
    const method = request.method ?? "GET";
    const target =
      proxiedTarget(request.url ?? "/", own.port) ??
      (tunnelled.has(request.socket) ? { own: true as const, path: request.url ?? "/" } : undefined);
    if (target !== undefined && !target.own) {
      request.resume();
      logOutbound(method, target.host, request.url ?? "");
      response.writeHead(403, { "content-type": "text/plain", connection: "close" });
      response.end(PROXY_REFUSAL_TEXT);
      return;
    }
    const path = target?.path ?? request.url ?? "/";
    const bare = path.split("?")[0] ?? path;
    readRequestBody(request)
      .then(
        (raw) => {
          const { answer, entry, delayMs } = answerFor(method, bare, raw, script, usage);
          requests.push({
            method,
            path,
            ...entry,
            status: answer.kind === "json" ? answer.status : 200,
            ...(target === undefined ? {} : { viaProxy: true as const }),
          });
          return send(response, answer, delayMs);
        },
        () => response.destroy(),
      )
      .catch(() => response.destroy());
  });
  // codex tries a WebSocket first: refused at once with a plain 404, so it falls back to HTTP.
  server.on("upgrade", (request: IncomingMessage, socket: Duplex) => {
    requests.push({ method: "UPGRADE", path: request.url ?? "/", answered: "refused", status: 404, ...NO_TEXT });
    socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });
  // An HTTPS connection through the proxy: never tunnelled.
  // An HTTPS connection through the proxy: never tunnelled, except to the server itself (gemini
  // tunnels even a plain-HTTP base URL through the proxy with CONNECT).
  server.on("connect", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = request.url ?? "";
    if (proxiedTarget(`http://${target}`, own.port)?.own !== true) {
      logOutbound("CONNECT", target, target);
      socket.end(PROXY_REFUSAL);
      return;
    }
    tunnelled.add(socket);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    server.emit("connection", socket);
  });
  own.port = await listenOnTestPort(server, options.port);
  return {
    url: `http://127.0.0.1:${own.port}`,
    port: own.port,
    requests,
    get outbound() {
      return requests.filter((request) => request.answered === "outbound refused");
    },
    get turns() {
      return script.turns;
    },
    set turns(turns: Turn[]) {
      script.turns = turns;
    },
    get scripts() {
      return script.scripts;
    },
    set scripts(rules: ScriptRule[]) {
      script.scripts = rules;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the server reported as used over these requests (each model answer's usage, summed). */
export function servedUsage(requests: readonly LoggedRequest[]): Usage {
  return requests.reduce(
    (sum, request) => ({
      input: sum.input + (request.usage?.input ?? 0),
      output: sum.output + (request.usage?.output ?? 0),
    }),
    { input: 0, output: 0 },
  );
}
