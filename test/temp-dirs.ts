// Temporary directories for one test file, removed when its tests are done with them.
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach } from "vitest";

/**
 * A maker of temporary directories `<prefix>XXXXXX`, by their real path (git and the agent compare
 * real paths; a temp folder behind a symlink would not match). Each is removed after the test that
 * made it, or with `"all"` after the file's last test (for directories a `describe` or `beforeAll`
 * makes). Call it at the top of the file or of a `describe`: it registers the hook there.
 */
export function tempDirs(removeAfter: "each" | "all" = "each"): (prefix: string) => string {
  const made: string[] = [];
  (removeAfter === "each" ? afterEach : afterAll)(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    made.push(dir);
    return dir;
  };
}
