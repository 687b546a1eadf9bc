#!/usr/bin/env node
// Bench load: prints <count> lines of <size> bytes as fast as the pipe takes them.
const count = Number(process.argv[2] ?? 100000);
const size = Number(process.argv[3] ?? 192);
const pad = "x".repeat(Math.max(0, size - 12));
const perChunk = 256;
let i = 0;
function write() {
  while (i < count) {
    let chunk = "";
    for (let j = 0; j < perChunk && i < count; j++, i++) chunk += `${String(i).padStart(10, "0")} ${pad}\n`;
    if (!process.stdout.write(chunk)) return process.stdout.once("drain", write);
  }
}
write();
