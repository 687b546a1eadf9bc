// The production bundle check (docs/command-line.md): builds the worker the way `partykit deploy` does
// (node_modules/partykit/dist/bin.mjs, `deploy`: esbuild over the main and the parties, ESM, target
// esnext, conditions partykit/workerd/worker, partykit's process shim injected) and refuses what
// Cloudflare's runtime would not run: a build error, an import the runtime does not provide, a
// CommonJS require of a built-in (esbuild leaves a shim that throws at run time), node: modules
// without the nodejs_compat flag (`partykit dev` always adds it; `deploy` only sends partykit.json's
// flags), or a bundle over the Workers size limit. `npm run check:bundle`; test/launcher runs it too.
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { PROJECT_ROOT } from "./dev-server.ts";
import { readPartykitConfig } from "./partykit-config.ts";

/** Workers' compressed size limit on the free plan (the paid plan allows 10 MiB): the bundle must fit both. */
export const MAX_GZIP_BYTES = 3 * 1024 * 1024;
/** Node modules workerd provides under nodejs_compat at our compatibility date (2024-07-18). */
export const WORKERD_NODE_MODULES = [
  "assert",
  "async_hooks",
  "buffer",
  "crypto",
  "diagnostics_channel",
  "events",
  "path",
  "process",
  "stream",
  "string_decoder",
  "util",
];

export type BundleReport = { ok: boolean; problems: string[]; bytes: number; gzipBytes: number; externals: string[] };

export async function checkProductionBundle(root: string = PROJECT_ROOT): Promise<BundleReport> {
  const config = readPartykitConfig(root);
  const contents = [
    `import WorkerSpec from './${config.main}'; export default WorkerSpec;`,
    ...Object.entries(config.parties ?? {}).map(
      ([name, file]) => `import ${name}Party from './${file}'; export const ${name} = ${name}Party;`,
    ),
  ].join("\n");
  const problems: string[] = [];
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      stdin: { contents, resolveDir: root, loader: "ts" },
      format: "esm",
      bundle: true,
      write: false,
      metafile: true,
      target: "esnext",
      conditions: ["partykit", "workerd", "worker"],
      define: { PARTYKIT_HOST: '"mesh.example.com"' },
      inject: [join(root, "node_modules/partykit/inject-process.js")],
      external: ["cloudflare:*", "node:*"],
      logLevel: "silent",
    });
  } catch (error) {
    const failure = error as { errors?: esbuild.Message[] };
    for (const message of failure.errors ?? [])
      problems.push(
        `build: ${message.text}${message.location ? ` (${message.location.file}:${message.location.line})` : ""}`,
      );
    if (problems.length === 0) problems.push(`build: ${String(error)}`);
    return { ok: false, problems, bytes: 0, gzipBytes: 0, externals: [] };
  }
  const output = result.outputFiles[0]?.contents ?? new Uint8Array();
  const code = new TextDecoder().decode(output);
  const externals = [
    ...new Set(
      Object.values(result.metafile.outputs).flatMap((out) => out.imports.filter((i) => i.external).map((i) => i.path)),
    ),
  ].sort();
  const nodeCompat = (config.compatibilityFlags ?? []).includes("nodejs_compat");
  for (const path of externals) {
    if (path.startsWith("cloudflare:")) continue;
    const name = path.replace(/^node:/, "").split("/")[0] ?? "";
    if (!path.startsWith("node:")) problems.push(`import '${path}' is not bundled and the runtime has no such module`);
    else if (!WORKERD_NODE_MODULES.includes(name))
      problems.push(`import '${path}': workerd has no node:${name} at this compatibility date`);
    else if (!nodeCompat)
      problems.push(
        `import '${path}' needs the nodejs_compat flag: add "compatibilityFlags": ["nodejs_compat"] to partykit.json (partykit dev adds it, deploy does not)`,
      );
  }
  // esbuild's CommonJS shim throws "Dynamic require of X is not supported" when a bundled require() reaches a built-in.
  for (const match of code.matchAll(/__require\("([^"]+)"\)/g))
    problems.push(
      `a CommonJS require('${match[1]}') is left in the bundle: it throws on Workers; use an ESM build of that package`,
    );
  const gzipBytes = gzipSync(output).byteLength;
  if (gzipBytes > MAX_GZIP_BYTES)
    problems.push(
      `the bundle is ${(gzipBytes / 1048576).toFixed(2)} MiB gzipped, over the Workers limit of ${MAX_GZIP_BYTES / 1048576} MiB`,
    );
  return { ok: problems.length === 0, problems, bytes: output.byteLength, gzipBytes, externals };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await checkProductionBundle();
  console.log(
    `production bundle: ${(report.bytes / 1024).toFixed(0)} KiB (${(report.gzipBytes / 1024).toFixed(0)} KiB gzipped); runtime imports: ${report.externals.join(", ") || "none"}`,
  );
  for (const problem of report.problems) console.error(`error: ${problem}`);
  process.exit(report.ok ? 0 : 1);
}
