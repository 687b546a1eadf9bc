// The production bundle check (docs/command-line.md): the worker builds the way `partykit deploy` builds
// it and needs nothing Cloudflare's runtime lacks; a worker that would not run there is refused.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";
import { checkProductionBundle, MAX_GZIP_BYTES } from "../../launcher/production-bundle.ts";

/** A throwaway project whose worker is `source`. */
async function checkWorker(source: string, flags: string[] = ["nodejs_compat"]) {
  const root = mkdtempSync(join(tmpdir(), "mesh-bundle-"));
  try {
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(root, "node_modules"));
    writeFileSync(join(root, "worker.ts"), source);
    writeFileSync(
      join(root, "partykit.json"),
      JSON.stringify({ name: "x", main: "worker.ts", compatibilityFlags: flags }),
    );
    return await checkProductionBundle(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("the production bundle", () => {
  it("of the mesh builds as partykit deploy builds it and uses only what workerd provides", async () => {
    const report = await checkProductionBundle();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.gzipBytes).toBeLessThan(MAX_GZIP_BYTES);
    expect(report.externals.every((path) => path.startsWith("cloudflare:") || path === "node:process")).toBe(true);
  });

  it("refuses a worker that imports a module workerd lacks, or node: modules without nodejs_compat", async () => {
    const fs = await checkWorker(
      `import { readFileSync } from "node:fs"; export default { onRequest: () => new Response(String(readFileSync)) };`,
    );
    expect(fs.ok).toBe(false);
    expect(fs.problems).toContainEqual(expect.stringContaining("workerd has no node:fs"));
    const noFlag = await checkWorker(
      `import { Buffer } from "node:buffer"; export default { onRequest: () => new Response(Buffer.from("x")) };`,
      [],
    );
    expect(noFlag.problems).toContainEqual(expect.stringContaining("needs the nodejs_compat flag"));
  });

  it("refuses a worker that does not build, naming the file and line", async () => {
    const broken = await checkWorker(`import { nothing } from "./missing.ts"; export default nothing;`);
    expect(broken.ok).toBe(false);
    expect(broken.problems[0]).toMatch(/^build: Could not resolve "\.\/missing\.ts"/);
  });
});
