// Loads one program of the build, or says how to make the build when it is missing.
import { existsSync } from "node:fs";

/** Imports dist/<file>; exits 2 with the fix when the project was never built. */
export async function runBuilt(file) {
  const url = new URL(`../dist/${file}`, import.meta.url);
  if (!existsSync(url)) {
    process.stderr.write(
      `agent-mesh is not built (no dist/${file}): run 'npm run build' in ${new URL("..", import.meta.url).pathname}\n`,
    );
    process.exit(2);
  }
  await import(url.href);
}
