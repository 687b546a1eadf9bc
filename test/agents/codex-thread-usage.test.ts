import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codexThreadTotal, lastThreadTotal, pastThreadTotal } from "../../agents/runtime/codex-thread-usage.ts";
import { parserFor } from "../../agents/runtime/formats/index.ts";
import { tempDirs } from "../temp-dirs.ts";

const SESSION = "019a9776-0a34-7842-8627-112b63d66e90";
const tokenCount = (input: number, cached: number, output: number): string =>
  JSON.stringify({
    timestamp: "2026-12-07T20:00:00Z",
    type: "event_msg",
    payload: {
      type: "token_count",
      info: {
        total_token_usage: {
          input_tokens: input,
          cached_input_tokens: cached,
          output_tokens: output,
          reasoning_output_tokens: 0,
          total_tokens: input + output,
        },
        last_token_usage: { input_tokens: 1, output_tokens: 1 },
      },
    },
  });
const rollout = [
  JSON.stringify({ type: "session_meta", payload: { id: SESSION, cwd: "/w/1" } }),
  tokenCount(1000, 200, 50),
  JSON.stringify({ type: "event_msg", payload: { type: "token_count", info: null } }),
  tokenCount(2400, 400, 112),
  JSON.stringify({ type: "response_item", payload: { type: "message", role: "assistant" } }),
  "not json",
].join("\n");

const temp = tempDirs();

describe("a resumed codex thread's usage", () => {
  it("reads the thread's total from the last token_count that carries one", () => {
    expect(lastThreadTotal(rollout)).toEqual({
      input: 2000,
      cacheRead: 400,
      cacheWrite: 0,
      cacheWrite1h: 0,
      output: 112,
    });
    expect(lastThreadTotal("{}\nnot json\n")).toBeUndefined();
  });

  it("finds the rollout under the executor's CODEX_HOME by session id", async () => {
    const home = temp("codex-home-");
    const day = join(home, "sessions/2026/12/07");
    mkdirSync(day, { recursive: true });
    writeFileSync(join(day, `rollout-2026-12-07T20-00-00-${SESSION}.jsonl`), rollout);
    expect(await codexThreadTotal({ CODEX_HOME: home }, SESSION)).toMatchObject({
      input: 2000,
      cacheRead: 400,
      output: 112,
    });
    expect(await codexThreadTotal({ CODEX_HOME: home }, "another-session")).toBeUndefined();
  });

  it("counts only what the resumed run added to the thread, while it streams and at its end", () => {
    const parser = pastThreadTotal(parserFor("codex-jsonl"), {
      input: 2000,
      cacheRead: 400,
      cacheWrite: 0,
      cacheWrite1h: 0,
      output: 112,
    });
    parser.stdout(JSON.stringify({ type: "thread.started", thread_id: SESSION }));
    // The first turn of the resumed run: the thread's total, the earlier 2400/112 included.
    parser.stdout(
      JSON.stringify({
        type: "turn.completed",
        usage: { input_tokens: 4800, cached_input_tokens: 600, output_tokens: 224 },
      }),
    );
    expect(parser.spent?.().usage).toEqual([
      { input: 2200, cacheRead: 200, cacheWrite: 0, cacheWrite1h: 0, output: 112 },
    ]);
    expect(parser.end().report.usage).toEqual([
      { input: 2200, cacheRead: 200, cacheWrite: 0, cacheWrite1h: 0, output: 112 },
    ]);
    expect(parser.session?.()).toBe(SESSION);
  });
});
