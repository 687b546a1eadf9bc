#!/usr/bin/env node
// Bench child: prints <rate> lines a second for <seconds> seconds, each starting with the wall-clock
// instant it was written (ms since epoch, µs precision), so a viewer on the same machine can tell
// how long the line took to reach it. Usage: paced-lines.mjs <rate> <seconds>.
const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 10);
const total = Math.round(rate * seconds);
const pad = "x".repeat(120);
const startedAt = performance.now();
let written = 0;
function tick() {
  // Catch up to the schedule: a late timer writes every line that is due, each stamped as it goes.
  const due = Math.min(total, Math.floor(((performance.now() - startedAt) * rate) / 1000) + 1);
  let chunk = "";
  for (; written < due; written++) chunk += `${(performance.timeOrigin + performance.now()).toFixed(3)} ${pad}\n`;
  if (chunk.length > 0) process.stdout.write(chunk);
  if (written < total) setTimeout(tick, 1);
}
tick();
