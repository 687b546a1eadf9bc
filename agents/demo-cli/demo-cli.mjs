#!/usr/bin/env node
// The bundled demo CLI: replays a realistic coding session as plain text, so `npm start` shows a
// live task without any API key. Usage: demo-cli.mjs "<prompt>". DEMO_CLI_DELAY_MS scales the pauses.
const prompt = process.argv[2] ?? "(no prompt)";
const unit = Number(process.env.DEMO_CLI_DELAY_MS ?? 350);
const sleep = (steps) => new Promise((done) => setTimeout(done, steps * unit));

const session = [
  [1, `● Task: ${prompt.slice(0, 200)}`],
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
process.stderr.write("  (demo) npm warn Unknown user config \"nodedir\"\n");
for (const [steps, line] of closing) {
  await sleep(steps);
  console.log(line);
}
