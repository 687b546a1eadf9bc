// The page's weight (docs/page.md): builds web/src the way `partykit deploy` builds partykit.json's
// `serve.build` (node_modules/partykit/dist/bin.mjs: esbuild, ESM, splitting on, minified for deploy)
// and measures what a browser fetches before anything is shown — the entry and every chunk it
// imports statically, gzipped — apart from what it loads only on demand (diff2html, behind `import()`).
// `npm run check:page`; test/web/page-weight.test.ts holds it under the budget.
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { PROJECT_ROOT } from "./dev-server.ts";
import { readPartykitConfig } from "./partykit-config.ts";

/** The budget for the JavaScript a page load fetches, gzipped (docs/page.md). */
export const MAX_INITIAL_GZIP_BYTES = 600 * 1024;

export type PageWeight = {
  /** The entry and its static imports, gzipped. */
  initialGzipBytes: number;
  /** Every other chunk (loaded by `import()` when needed), gzipped. */
  lazyGzipBytes: number;
  /** Packages whose code is in the initial load. */
  initialPackages: string[];
};

export async function measurePageWeight(root: string = PROJECT_ROOT): Promise<PageWeight> {
  const config = readPartykitConfig(root);
  const entry = join(root, config.serve?.build?.entry ?? "web/src/page.ts");
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    write: false,
    metafile: true,
    outdir: join(root, ".page-weight"),
    absWorkingDir: root,
    logLevel: "silent",
  });
  const gzipped = new Map(
    result.outputFiles.map((file) => [relative(root, file.path), gzipSync(file.contents).length]),
  );
  const outputs = result.metafile.outputs;
  // With splitting, every import() target is an entry point too: the page's is the one built from its entry.
  const entryOut = Object.keys(outputs).find((path) => outputs[path]?.entryPoint === relative(root, entry));
  if (entryOut === undefined) throw new Error("esbuild produced no entry chunk for the page");
  // The static closure: what the browser must fetch before the page runs.
  const initial = new Set<string>();
  const visit = (path: string): void => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const imported of outputs[path]?.imports ?? []) if (imported.kind === "import-statement") visit(imported.path);
  };
  visit(entryOut);
  const packages = new Set<string>();
  for (const path of initial) {
    for (const input of Object.keys(outputs[path]?.inputs ?? {})) {
      const found = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (found?.[1] !== undefined) packages.add(found[1]);
    }
  }
  let initialGzipBytes = 0;
  let lazyGzipBytes = 0;
  for (const [path, bytes] of gzipped) {
    if (!path.endsWith(".js")) continue;
    if (initial.has(path)) initialGzipBytes += bytes;
    else lazyGzipBytes += bytes;
  }
  return { initialGzipBytes, lazyGzipBytes, initialPackages: [...packages].sort() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const weight = await measurePageWeight();
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(
    `page JavaScript at load: ${kb(weight.initialGzipBytes)} gzipped (budget ${kb(MAX_INITIAL_GZIP_BYTES)}); loaded on demand: ${kb(weight.lazyGzipBytes)}`,
  );
  console.log(`packages in the initial load: ${weight.initialPackages.join(", ")}`);
  if (weight.initialGzipBytes > MAX_INITIAL_GZIP_BYTES) process.exitCode = 1;
}
