// The scripted model server's scripts and log: edit and read turns as each CLI's own tool, failures in
// each provider's error body, slow streams, per-turn usage, scripts chosen by API and prompt, the
// prompt text and served usage in the log, and the proxy guard refusing every other host.
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModelServer, servedUsage, startModelServer } from "./model-server.ts";
import { PROXY_ONLY_HOST } from "./outbound-guard.ts";
import { readEditThenSay } from "./scripted-turns.ts";

let server: ModelServer;
beforeAll(async () => {
  server = await startModelServer({
    turns: readEditThenSay("a.txt", "old line\n", "new line\n"),
    usage: { input: 7, output: 3 },
  });
});
afterAll(() => server.stop());

const post = async (path: string, body: unknown): Promise<{ status: number; text: string }> => {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
};
const events = (text: string): unknown[] =>
  text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice(6)) as unknown);

/** A raw request line through the server as a proxy: the status line and body it answers. */
function rawExchange(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.write(head));
    let answer = "";
    socket.on("data", (chunk: Buffer) => void (answer += chunk.toString()));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe("the scripted model server's scripts", () => {
  it("reads then edits with each CLI's own tools", async () => {
    const claudeTools = [{ name: "Read" }, { name: "Edit" }];
    const read = await post("/v1/messages", {
      model: "c",
      stream: true,
      tools: claudeTools,
      messages: [{ role: "user", content: "edit a.txt" }],
    });
    expect(events(read.text)).toContainEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: JSON.stringify({ file_path: "a.txt" }) },
    });
    const edit = await post("/v1/messages", {
      model: "c",
      stream: true,
      tools: claudeTools,
      messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "old line" }] }],
    });
    expect(events(edit.text)).toContainEqual(
      expect.objectContaining({ content_block: expect.objectContaining({ name: "Edit" }) }),
    );
    expect(events(edit.text)).toContainEqual({
      type: "content_block_delta",
      index: 0,
      delta: {
        type: "input_json_delta",
        partial_json: JSON.stringify({ file_path: "a.txt", old_string: "old line\n", new_string: "new line\n" }),
      },
    });

    const chatEdit = await post("/v1/chat/completions", {
      model: "m",
      stream: true,
      tools: [{ type: "function", function: { name: "edit" } }],
      messages: [
        { role: "user", content: "go" },
        { role: "tool", content: "1: old line" },
      ],
    });
    expect(events(chatEdit.text)[0]).toMatchObject({
      choices: [
        {
          delta: {
            tool_calls: [
              {
                function: {
                  name: "edit",
                  arguments: JSON.stringify({ filePath: "a.txt", oldString: "old line\n", newString: "new line\n" }),
                },
              },
            ],
          },
        },
      ],
    });

    const codexEdit = await post("/v1/responses", {
      model: "g",
      tools: [
        { type: "custom", name: "apply_patch" },
        { type: "function", name: "shell_command" },
      ],
      input: [{ type: "function_call_output", call_id: "c", output: "old line" }],
    });
    const done = events(codexEdit.text).find(
      (event) => (event as { type?: string }).type === "response.output_item.done",
    ) as { item: { input: string } };
    expect(done.item.input).toBe("*** Begin Patch\n*** Update File: a.txt\n@@\n-old line\n+new line\n*** End Patch\n");
    const codexRead = await post("/v1/responses", {
      model: "g",
      tools: [
        { type: "custom", name: "apply_patch" },
        { type: "function", name: "shell_command" },
      ],
      input: [],
    });
    expect(codexRead.text).toContain(JSON.stringify(JSON.stringify({ command: 'cat "a.txt"' })).slice(1, -1));

    const geminiEdit = await post("/v1beta/models/g:streamGenerateContent?alt=sse", {
      contents: [
        { role: "user", parts: [{ text: "go" }] },
        { role: "user", parts: [{ functionResponse: { name: "read_file", response: { output: "old line" } } }] },
      ],
      tools: [{ functionDeclarations: [{ name: "replace" }] }],
    });
    expect(events(geminiEdit.text)[0]).toMatchObject({
      candidates: [
        {
          content: {
            parts: [
              {
                functionCall: {
                  name: "replace",
                  args: { file_path: "a.txt", old_string: "old line\n", new_string: "new line\n" },
                },
              },
            ],
          },
        },
      ],
    });
  });

  it("fails with each provider's own error body, and logs no usage for it", async () => {
    server.turns = [{ fail: { status: 429, message: "slow down" } }];
    const anthropic = await post("/v1/messages", { model: "c", tools: [{ name: "Write" }], messages: [] });
    expect(anthropic.status).toBe(429);
    expect(JSON.parse(anthropic.text)).toEqual({
      type: "error",
      error: { type: "rate_limit_error", message: "slow down" },
    });
    server.turns = [{ fail: { status: 401 } }];
    const chat = await post("/v1/chat/completions", {
      model: "m",
      tools: [{ type: "function", function: { name: "write" } }],
      messages: [],
    });
    expect(chat.status).toBe(401);
    expect(JSON.parse(chat.text)).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_api_key" } });
    server.turns = [{ fail: { status: 500 } }];
    const gemini = await post("/v1beta/models/g:streamGenerateContent?alt=sse", {
      contents: [],
      tools: [{ functionDeclarations: [{ name: "write_file" }] }],
    });
    expect(gemini.status).toBe(500);
    expect(JSON.parse(gemini.text)).toMatchObject({ error: { code: 500, status: "INTERNAL" } });
    expect(server.requests.slice(-3).map((request) => [request.answered, request.status, request.usage])).toEqual([
      ["fail 429", 429, undefined],
      ["fail 401", 401, undefined],
      ["fail 500", 500, undefined],
    ]);
  });

  it("serves each turn's own usage, slowly when asked, and logs it for summing", async () => {
    server.turns = [
      { write: { path: "b.txt", content: "b\n" }, usage: { input: 100, output: 10 }, delayMs: 20 },
      { text: "done", usage: { input: 200, output: 20 } },
    ];
    const before = server.requests.length;
    const slow = await post("/v1/responses", {
      model: "g",
      tools: [{ type: "custom", name: "apply_patch" }],
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "write b" }] }],
    });
    expect(events(slow.text).map((event) => (event as { type: string }).type)).toEqual([
      "response.created",
      "response.output_item.added",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events(slow.text).at(-1)).toMatchObject({ response: { usage: { input_tokens: 100, output_tokens: 10 } } });
    await post("/v1/responses", {
      model: "g",
      tools: [{ type: "custom", name: "apply_patch" }],
      input: [{ type: "custom_tool_call_output", call_id: "c", output: "Done" }],
    });
    await post("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: "title?" }] });
    expect(servedUsage(server.requests.slice(before))).toEqual({ input: 100 + 200 + 7, output: 10 + 20 + 3 });
  });

  it("picks a script by API and by the prompt, and logs the prompt text the model saw", async () => {
    server.turns = [{ text: "default" }];
    server.scripts = [
      { api: "anthropic", prompt: "Earlier attempts", turns: [{ text: "knew the evidence" }] },
      { api: "gemini", turns: [{ text: "gemini's own" }] },
    ];
    const tools = [{ name: "Write" }];
    const plain = await post("/v1/messages", { model: "c", tools, messages: [{ role: "user", content: "do it" }] });
    expect(JSON.parse(plain.text)).toMatchObject({ content: [{ text: "default" }] });
    const evidence = await post("/v1/messages", {
      model: "c",
      tools,
      messages: [
        { role: "user", content: [{ type: "text", text: "do it\nEarlier attempts at this task did not pass" }] },
        { role: "assistant", content: [{ type: "text", text: "ok" }] },
      ],
    });
    expect(JSON.parse(evidence.text)).toMatchObject({ content: [{ text: "knew the evidence" }] });
    const gemini = await post("/v1beta/models/g:generateContent", {
      contents: [{ role: "user", parts: [{ text: "hello gemini" }] }],
      tools: [{ functionDeclarations: [{ name: "write_file" }] }],
    });
    expect(JSON.parse(gemini.text)).toMatchObject({ candidates: [{ content: { parts: [{ text: "gemini's own" }] } }] });
    expect(server.requests.slice(-3).map((request) => [request.api, request.prompt, request.messages])).toEqual([
      ["anthropic", "do it", 1],
      ["anthropic", "do it\nEarlier attempts at this task did not pass", 2],
      ["gemini", "hello gemini", 1],
    ]);
    server.scripts = [];
  });
});

describe("the proxy guard", () => {
  it("refuses and logs a CONNECT to another host", async () => {
    const answer = await rawExchange(
      "CONNECT telemetry.example.com:443 HTTP/1.1\r\nhost: telemetry.example.com:443\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(server.outbound.at(-1)).toMatchObject({
      method: "CONNECT",
      host: "telemetry.example.com:443",
      answered: "outbound refused",
      status: 403,
    });
  });

  it("refuses and logs an absolute-URI request for another host", async () => {
    const answer = await rawExchange(
      "GET http://updates.example.com/check HTTP/1.1\r\nhost: updates.example.com\r\nconnection: close\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(server.outbound.at(-1)).toMatchObject({
      method: "GET",
      host: "updates.example.com",
      path: "http://updates.example.com/check",
    });
  });

  it("serves its own API through the proxy, by PROXY_ONLY_HOST, plainly and through a CONNECT tunnel", async () => {
    server.turns = [{ text: "via proxy" }];
    const outboundBefore = server.outbound.length;
    const viaRequest = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        {
          host: "127.0.0.1",
          port: server.port,
          method: "POST",
          path: `http://${PROXY_ONLY_HOST}:${server.port}/v1/messages`,
          headers: { "content-type": "application/json" },
        },
        (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => void (body += chunk.toString()));
          response.on("end", () => resolve(body));
        },
      );
      request.on("error", reject);
      request.end(
        JSON.stringify({ model: "c", tools: [{ name: "Write" }], messages: [{ role: "user", content: "hi" }] }),
      );
    });
    expect(JSON.parse(viaRequest)).toMatchObject({ content: [{ text: "via proxy" }] });
    const body = JSON.stringify({
      model: "c",
      tools: [{ name: "Write" }],
      messages: [{ role: "user", content: "tunnelled" }],
    });
    const tunnel = await rawExchange(
      `CONNECT ${PROXY_ONLY_HOST}:${server.port} HTTP/1.1\r\n\r\nPOST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    expect(tunnel).toContain("200 Connection Established");
    expect(tunnel).toContain("via proxy");
    expect(server.requests.slice(-2).map((request) => [request.path, request.viaProxy, request.prompt])).toEqual([
      ["/v1/messages", true, "hi"],
      ["/v1/messages", true, "tunnelled"],
    ]);
    expect(server.outbound.length).toBe(outboundBefore);
  });
});
