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

/** How the real CLI ended each recorded failure (docs/cli-formats.md lists each CLI's failure signatures). */
const endings = {
  "claude-error.jsonl": { exit: 1 },
  "claude-auth-failure.txt": { exit: 1 },
  "codex-failure.jsonl": { exit: 1 },
  "gemini-error.json": { exit: 41, stream: "stderr" },
};

const args = process.argv.slice(2);
// The agent's preflight asks every tier's program for its version (docs/real-clis.md).
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

// In the demo repository the session tells the story of the edits it makes (docs/page.md "The demo").
const inDemoRepo = existsSync(".mesh-demo");
if (inDemoRepo) makeTheEdits();

if (format === "text") {
  await replayText(prompt);
} else {
  const transcript = options["--transcript"] ?? successes[format];
  if (transcript === undefined) {
    process.stderr.write(
      `demo-cli: unknown --format '${format}'; use text or one of ${Object.keys(successes).join(", ")}\n`,
    );
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
  if (inDemoRepo) for (const [from, to] of routerStory()) text = text.replaceAll(from, to);
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

/**
 * The recordings fix `add()` in src/math.js; the demo repository's change is input validation in
 * src/router.ts (makeTheEdits). In that repository these replacements make every recording tell the
 * router's story, with the test runner's colours (ANSI, written as JSON escapes) for the page's log.
 * Longer texts come first: a shorter one may be part of them.
 */
function routerStory() {
  const esc = "\\u001b[";
  const red = (text) => `${esc}31m${text}${esc}0m`;
  const green = (text) => `${esc}32m${text}${esc}0m`;
  const bold = (text) => `${esc}1m${text}${esc}22m`;
  const summary =
    "Added input validation to `parseBody()` in `src/router.ts`: a body without a name answers 400, an oversized one 413. `npm test` now passes (3/3).";
  return [
    ["Fix the failing test in test/math.test.js", "Add input validation to the router and cover it with tests"],
    [
      "Fixed the bug: `add()` in `src/math.js` was subtracting instead of adding. It now returns `a + b`, which is what the failing test expects.",
      summary,
    ],
    ["Fixed `add()` in `src/math.js` (it subtracted instead of adding). `npm test` now passes.", summary],
    [
      "Fixed `add()` in `src/math.js`: it returned `a - b` instead of `a + b`. The failing test in `test/math.test.js` now passes.",
      summary,
    ],
    [
      "Fixed the failing test: `add()` in `src/math.js` subtracted its arguments. ",
      "Added input validation to `parseBody()` in `src/router.ts`. ",
    ],
    [
      "I changed `return a - b;` to `return a + b;` and `npm test` now passes (1/1).",
      "A body without a name now answers 400, an oversized one 413, and `npm test` passes (3/3).",
    ],
    [
      "I'll run the test suite first to see what is failing.",
      "I'll run the tests first to see what the router accepts today.",
    ],
    ["**Fixing the operator in add()**", "**Validating the body in parseBody()**"],
    ["**Running tests to locate the failure**", "**Running the router's tests**"],
    ["Fix add() to add instead of subtract", "Validate the body: 400 without a name, 413 when oversized"],
    [
      "export function add(a, b) {\\n  return a - b;\\n}\\n",
      "export type Body = { name: string };\\n\\nexport function parseBody(text: string): Body {\\n  return JSON.parse(text) as Body;\\n}\\n",
    ],
    ["export function add(a, b) {", "export function parseBody(text: string): Result {"],
    ["  expected: 5\\n  actual: -1", "  expected: status 400\\n  actual: status 200"],
    ["not ok 1 - add() adds two numbers", red("✗ not ok 1 - rejects a body without a name (400)")],
    ["ok 1 - add() adds two numbers", green("✓ ok 1 - rejects a body without a name (400)")],
    ["# pass 0\\n# fail 1", `${green("# pass 2")}\\n${bold(red("# fail 1"))}`],
    ["# pass 1\\n# fail 0", `${bold(green("# pass 3"))}\\n# fail 0`],
    ["return a - b;", "return JSON.parse(text) as Body;"],
    ["return a + b;", "return validBody(JSON.parse(text));"],
    ["src/math.js", "src/router.ts"],
    ["test/math.test.js", "test/router.test.ts"],
  ];
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
  // The test runner's own colours, as a terminal would show them (the page draws ANSI colours).
  const green = (text) => `\x1b[32m${text}\x1b[39m`;
  const dim = (text) => `\x1b[2m${text}\x1b[22m`;
  const testRun = [
    dim("  > demo@1.0.0 test"),
    dim("  > vitest run"),
    `   ${green("✓")} test/router.test.ts > accepts a valid body`,
    `   ${green("✓")} test/router.test.ts > rejects a body without a name (400)`,
    `   ${green("✓")} test/router.test.ts > rejects an oversized body (413)`,
    `   ${green("✓")} test/parse.test.ts > parses every fixture`,
    `   Test Files  \x1b[1m${green("2 passed")}\x1b[22m (2)`,
    `        Tests  \x1b[1m${green("4 passed")}\x1b[22m (4)`,
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
      '  if (typeof body !== "object" || body === null || typeof (body as Body).name !== "string") return { ok: false, status: 400 };',
      "  const name = (body as Body).name;",
      "  return name.length >= 1 && name.length <= 100 ? { ok: true, body: { name } } : { ok: false, status: 400 };",
      "}",
      "",
    ].join("\n"),
  );
  writeFileSync(
    "test/router.test.ts",
    [
      'import { expect, it } from "vitest";',
      'import { parseBody } from "../src/router.ts";',
      "",
      'it("accepts a valid body", () => expect(parseBody(\'{"name":"a"}\')).toEqual({ ok: true, body: { name: "a" } }));',
      'it("rejects a body without a name (400)", () => expect(parseBody("{}")).toEqual({ ok: false, status: 400 }));',
      'it("rejects an oversized body (413)", () => expect(parseBody("x".repeat(70_000))).toEqual({ ok: false, status: 413 }));',
      "",
    ].join("\n"),
  );
}
