// `npm run deploy -- [--domain <domain>] [--preview <name>] [--dry-run]`: the mesh to PartyKit's
// platform, or to one's own Cloudflare account with --domain (README "Run it for real"). It checks the
// production bundle first (production-bundle.ts), then runs `partykit deploy`. Secrets never travel
// on a command line: set them once with `npx partykit env add <NAME>`, which asks for the value.
import { spawn } from "node:child_process";
import { readCommandLine } from "./command-line.ts";
import { PROJECT_ROOT } from "./dev-server.ts";
import { checkProductionBundle } from "./production-bundle.ts";

const USAGE = `usage: npm run deploy -- [--domain <your domain on Cloudflare>] [--preview <name>] [--dry-run]
Checks the production bundle, then deploys with partykit (npx partykit login first; for your own
Cloudflare account set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN and pass --domain).
Set the secrets once, each asked for, never on a command line:
  npx partykit env add MESH_ORCHESTRATOR_TOKEN
  npx partykit env add MESH_AGENT_TOKEN`;

const values = readCommandLine("npm run deploy", USAGE, {
  domain: { type: "string" },
  preview: { type: "string" },
  "dry-run": { type: "boolean" },
});
const report = await checkProductionBundle();
console.log(
  `production bundle: ${(report.gzipBytes / 1024).toFixed(0)} KiB gzipped; runtime imports: ${report.externals.join(", ") || "none"}`,
);
if (!report.ok) {
  for (const problem of report.problems) console.error(`error: ${problem}`);
  console.error("not deployed: fix the bundle first (npm run check:bundle)");
  process.exit(1);
}
const args = [
  "partykit",
  "deploy",
  ...(values.domain === undefined ? [] : ["--domain", values.domain]),
  ...(values.preview === undefined ? [] : ["--preview", values.preview]),
];
if (values["dry-run"] === true) {
  console.log(`would run: npx ${args.join(" ")}`);
  process.exit(0);
}
const child = spawn("npx", args, { cwd: PROJECT_ROOT, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 1));
