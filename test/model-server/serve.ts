// Runs the scripted model server by hand: `node --import tsx test/model-server/serve.ts [port]`;
// prints its URL and every request, until Ctrl-C (README.md here).
import { startModelServer } from "./model-server.ts";
import { writeThenSay } from "./scripted-turns.ts";

const port = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
const server = await startModelServer({
  turns: writeThenSay("mesh-proof.txt", "written by the scripted model\n"),
  ...(port === undefined ? {} : { port }),
});
console.log(`scripted model server on ${server.url}`);
let shown = 0;
setInterval(() => {
  for (const request of server.requests.slice(shown)) console.log(JSON.stringify(request));
  shown = server.requests.length;
}, 200);
process.on("SIGINT", () => void server.stop().then(() => process.exit(0)));
process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
