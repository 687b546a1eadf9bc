#!/usr/bin/env node
// The bundled demo CLI: replays a realistic coding session, so `npm start` shows a live task without
// any API key.
//   demo-cli.mjs "<prompt>"                        plain text (the default)
//   demo-cli.mjs --format <format> [-m <model>] [--transcript <file>] [--] "<prompt>"
//     replays a recorded session in that output format (transcripts/, from the CLIs' documented
//     formats) with pauses, exactly as the real CLI would print it. With -m, formats that name
//     their model name that one (as if that model ran); the agent reads it from the command for
//     the others. --transcript picks another recording, e.g. codex-failure.jsonl.
// DEMO_CLI_DELAY_MS scales the pauses (default 350 ms a step).
// In a folder that holds a `.mesh-demo` file (the throwaway repository `npm start` makes), it also
// makes the edits its session describes, so the attempt has a real diff; anywhere else it writes nothing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const unit = Number(process.env.DEMO_CLI_DELAY_MS ?? 350);
const sleep = (steps) => new Promise((done) => setTimeout(done, steps * unit));

/** Each format's recorded success. */
const successes = {
  "claude-stream-json": "claude-success.jsonl",
  "claude-json": "claude-result.json",
  "codex-jsonl": "codex-success.jsonl",
  "gemini-json": "gemini-success.json",
  "gemini-stream-json": "gemini-stream-success.jsonl",
  "opencode-json": "opencode-deepseek-success.jsonl",
};
/** The model each recording names, replaced by the -m model. */
const recordedModels = { claude: "claude-sonnet-4-5-20250929", gemini: "gemini-2.5-flash" };

/** How the real CLI ended each recorded failure (FORMATS.md's table of samples). */
const endings = {
  "claude-error.jsonl": { exit: 1 },
  "claude-auth-failure.txt": { exit: 1 },
  "codex-failure.jsonl": { exit: 1 },
  "gemini-error.json": { exit: 41, stream: "stderr" },
};

const args = process.argv.slice(2);
// The agent's preflight asks every tier's program for its version (issue 16).
if (args[0] === "--version") {
  process.stdout.write("demo-cli 1.0.0 (agent-mesh)\n");
  process.exit(0);
}
const options = {};
// Only its own flags: anything else, even a prompt that starts with '-', is the prompt.
while (["--format", "-m", "--transcript", "--"].includes(args[0])) {
  const flag = args.shift();
  if (flag === "--") break;
  options[flag] = args.shift();
}
const prompt = args[0] ?? "(no prompt)";
const format = options["--format"] ?? "text";

if (existsSync(".mesh-demo")) makeTheEdits();

if (format === "text") {
  await replayText(prompt);
} else {
  const transcript = options["--transcript"] ?? successes[format];
  if (transcript === undefined) {
    process.stderr.write(`demo-cli: unknown --format '${format}'; use text or one of ${Object.keys(successes).join(", ")}\n`);
    process.exit(2);
  }
  await replayTranscript(transcript);
}

/** A recorded session, line by line: one-document formats come whole after a pause, as the real CLIs print them. */
async function replayTranscript(name) {
  const recorded = recordedModels[name.split("-")[0]];
  const model = options["-m"];
  let text = readFileSync(join(import.meta.dirname, "transcripts", name), "utf8");
  if (recorded !== undefined && model !== undefined) text = text.replaceAll(`"${recorded}"`, JSON.stringify(model));
  const ending = endings[name] ?? { exit: 0 };
  const out = ending.stream === "stderr" ? process.stderr : process.stdout;
  if (name.endsWith(".json") || name.endsWith(".txt")) {
    await sleep(8);
    out.write(text);
  } else {
    for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
      // Model turns and tool runs take a while; bookkeeping events follow at once.
      await sleep(/"(assistant|tool_use|tool_result|item\.completed|text|message)"/.test(line) ? 3 : 1);
      out.write(`${line}\n`);
    }
  }
  process.exitCode = ending.exit;
}

async function replayText(task) {
  const session = [
    [1, `● Task: ${task.slice(0, 200)}`],
    [3, "● Read(package.json)"],
    [1, "  └  Read 38 lines"],
    [2, "● Read(src/router.ts)"],
    [1, "  └  Read 212 lines"],
    [4, "● I'll add input validation to the route handler and cover it with tests."],
    [3, "● Edit(src/router.ts)"],
    [1, "  └  Updated src/router.ts with 14 additions and 3 removals"],
    [3, "● Write(test/router.test.ts)"],
    [1, "  └  Wrote 46 lines to test/router.test.ts"],
    [2, "● Bash(npm test)"],
  ];
  const testRun = [
    "  > demo@1.0.0 test",
    "  > vitest run",
    "   ✓ test/router.test.ts > accepts a valid body",
    "   ✓ test/router.test.ts > rejects a body without a name (400)",
    "   ✓ test/router.test.ts > rejects an oversized body (413)",
    "   ✓ test/parse.test.ts > parses every fixture",
    "   Test Files  2 passed (2)",
    "        Tests  4 passed (4)",
  ];
  const closing = [
    [3, "● All tests pass. Summary of the change:"],
    [1, "  - src/router.ts: validate the body with the shared schema; 400 names the bad field"],
    [1, "  - test/router.test.ts: three new cases"],
    [2, "Done in 4 turns · 2 files changed"],
  ];
  for (const [steps, line] of session) {
    await sleep(steps);
    console.log(line);
  }
  for (const line of testRun) {
    await sleep(1);
    console.log(line);
  }
  process.stderr.write('  (demo) npm warn Unknown user config "nodedir"\n');
  for (const [steps, line] of closing) {
    await sleep(steps);
    console.log(line);
  }
}

/** The change the recorded sessions describe: validation in the router, and its tests. */
function makeTheEdits() {
  mkdirSync("src", { recursive: true });
  mkdirSync("test", { recursive: true });
  writeFileSync(
    "src/router.ts",
    [
      "export type Body = { name: string };",
      "",
      "/** Validates a request body: a name of 1-100 characters, and nothing over 64 KiB. */",
      "export function parseBody(text: string): { ok: true; body: Body } | { ok: false; status: 400 | 413 } {",
      "  if (text.length > 65_536) return { ok: false, status: 413 };",
      "  const body: unknown = JSON.parse(text);",
      "  if (typeof body !== \"object\" || body === null || typeof (body as Body).name !== \"string\") return { ok: false, status: 400 };",
      "  const name = (body as Body).name;",
      "  return name.length >= 1 && name.length <= 100 ? { ok: true, body: { name } } : { ok: false, status: 400 };",
      "}",
      "",
    ].join("\n"),
  );
  writeFileSync(
    "test/router.test.ts",
    [
      "import { expect, it } from \"vitest\";",
      "import { parseBody } from \"../src/router.ts\";",
      "",
      "it(\"accepts a valid body\", () => expect(parseBody('{\"name\":\"a\"}')).toEqual({ ok: true, body: { name: \"a\" } }));",
      "it(\"rejects a body without a name (400)\", () => expect(parseBody(\"{}\")).toEqual({ ok: false, status: 400 }));",
      "it(\"rejects an oversized body (413)\", () => expect(parseBody(\"x\".repeat(70_000))).toEqual({ ok: false, status: 413 }));",
      "",
    ].join("\n"),
  );
}
