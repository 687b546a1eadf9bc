// The scripted model server answers each provider API the way its CLI reads it: turn 1 the CLI's own
// write tool with the script's relative path, turn 2 the text, side calls a text; usage on every
// answer; anything else a 4xx that names what it serves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "./model-server.ts";
import { writeThenSay } from "./scripted-turns.ts";

let server: ModelServer;
beforeAll(async () => {
  server = await startModelServer({ turns: writeThenSay("proof.txt", "hi\n"), usage: { input: 7, output: 3 } });
});
afterAll(() => server.stop());

const post = async (path: string, body: unknown): Promise<{ status: number; text: string }> => {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
};
/** The JSON payloads of a server-sent event stream. */
const events = (text: string): unknown[] =>
  text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice(6)) as unknown);

describe("the scripted model server", () => {
  it("binds 127.0.0.1 on a port from 20000-32000", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThanOrEqual(20_000);
    expect(server.port).toBeLessThan(32_000);
  });

  it("Anthropic Messages: Write with the relative path, then the text after a tool_result, usage on both", async () => {
    const tools = [{ name: "Write", input_schema: {} }];
    const first = await post("/v1/messages?beta=true", {
      model: "claude-x",
      stream: true,
      tools,
      messages: [{ role: "user", content: "go" }],
    });
    expect(first.status).toBe(200);
    expect(first.text).toContain("event: message_start");
    expect(events(first.text)).toContainEqual(
      expect.objectContaining({
        type: "content_block_start",
        content_block: expect.objectContaining({ type: "tool_use", name: "Write" }),
      }),
    );
    expect(events(first.text)).toContainEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: JSON.stringify({ file_path: "proof.txt", content: "hi\n" }) },
    });
    expect(events(first.text)).toContainEqual(
      expect.objectContaining({ type: "message_delta", usage: { output_tokens: 3 } }),
    );
    const second = await post("/v1/messages", {
      model: "claude-x",
      stream: true,
      tools,
      messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "ok" }] }],
    });
    expect(events(second.text)).toContainEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "Wrote proof.txt." },
    });
  });

  it("OpenAI chat completions: opencode's write tool, a usage chunk and [DONE]", async () => {
    const answer = await post("/v1/chat/completions", {
      model: "m",
      stream: true,
      tools: [{ type: "function", function: { name: "write" } }],
      messages: [{ role: "user", content: "go" }],
    });
    const chunks = events(answer.text);
    expect(chunks[0]).toMatchObject({
      choices: [
        {
          delta: {
            tool_calls: [
              { function: { name: "write", arguments: JSON.stringify({ filePath: "proof.txt", content: "hi\n" }) } },
            ],
          },
        },
      ],
    });
    expect(chunks).toContainEqual(
      expect.objectContaining({ usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } }),
    );
    expect(answer.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("OpenAI Responses: codex's freeform apply_patch adding the file, usage on response.completed", async () => {
    const answer = await post("/v1/responses", {
      model: "gpt-x",
      tools: [{ type: "custom", name: "apply_patch" }],
      input: [{ type: "message", role: "user", content: [] }],
    });
    const done = events(answer.text).find(
      (event) => (event as { type?: string }).type === "response.output_item.done",
    ) as { item: { type: string; input: string } };
    expect(done.item.type).toBe("custom_tool_call");
    expect(done.item.input).toBe("*** Begin Patch\n*** Add File: proof.txt\n+hi\n*** End Patch\n");
    expect(events(answer.text)).toContainEqual(
      expect.objectContaining({
        type: "response.completed",
        response: expect.objectContaining({ usage: expect.objectContaining({ input_tokens: 7, output_tokens: 3 }) }),
      }),
    );
    const after = await post("/v1/responses", {
      model: "gpt-x",
      tools: [{ type: "custom", name: "apply_patch" }],
      input: [{ type: "custom_tool_call_output", call_id: "c", output: "ok" }],
    });
    expect(after.text).toContain("Wrote proof.txt.");
  });

  it("Gemini: write_file in the stream, usageMetadata, and a token count", async () => {
    const answer = await post("/v1beta/models/gemini-x:streamGenerateContent?alt=sse", {
      contents: [{ role: "user", parts: [{ text: "go" }] }],
      tools: [{ functionDeclarations: [{ name: "write_file" }] }],
    });
    expect(events(answer.text)[0]).toMatchObject({
      candidates: [
        {
          content: {
            parts: [{ functionCall: { name: "write_file", args: { file_path: "proof.txt", content: "hi\n" } } }],
          },
        },
      ],
      usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3 },
    });
    const count = await post("/v1beta/models/gemini-x:countTokens", { contents: [] });
    expect(JSON.parse(count.text)).toHaveProperty("totalTokens");
  });

  it("answers a request that offers no tools with a side text, using up no turn", async () => {
    const answer = await post("/v1/chat/completions", {
      model: "m",
      stream: false,
      messages: [{ role: "user", content: "title?" }],
    });
    expect(JSON.parse(answer.text)).toMatchObject({ choices: [{ message: { content: "Mesh proof" } }] });
  });

  it("refuses what it does not serve with a 4xx that says what it serves, and logs every request", async () => {
    const unknown = await post("/v2/somewhere", {});
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain("/v1/chat/completions");
    const garbled = await post("/v1/messages", "not json");
    expect(garbled.status).toBe(400);
    expect(server.requests.slice(-2)).toEqual([
      { method: "POST", path: "/v2/somewhere", answered: "refused", status: 404, prompt: "", messages: 0 },
      { method: "POST", path: "/v1/messages", answered: "refused", status: 400, prompt: "", messages: 0 },
    ]);
    expect(server.requests.map((request) => request.answered)).toContain("write proof.txt");
  });
});
