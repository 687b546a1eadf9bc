// Real full and read-only disks for the fault tests (docs/faults.md): a tmpfs mounted where this
// process may mount (root, as in CI); elsewhere the tests that need one are skipped or stand in.
import { execFileSync } from "node:child_process";
import { afterAll, afterEach } from "vitest";

/**
 * A mounter of tmpfs: `mount(dir, "size=1m")` mounts one at `dir` and answers true, or false where
 * this process may not mount. Each mount is undone after the test that made it, or with `"all"` after
 * the file's last test. Make the directories' maker (test/temp-dirs.ts) first: after-hooks run
 * last-registered first, so the mounts are undone before their directories are removed.
 */
export function tmpfsMounts(unmountAfter: "each" | "all" = "each"): (dir: string, options: string) => boolean {
  const mounted: string[] = [];
  (unmountAfter === "each" ? afterEach : afterAll)(() => {
    for (const dir of mounted.splice(0)) {
      try {
        execFileSync("umount", [dir], { stdio: "ignore" });
      } catch {
        // Already unmounted by the test itself.
      }
    }
  });
  return (dir, options) => {
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "ignore" });
      mounted.push(dir);
      return true;
    } catch {
      return false;
    }
  };
}
