import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../launcher/dev-server.ts";

/** Where the CLIs are installed: a cache folder, not the project's dependencies (`.gitignore`d). */
export const CLI_CACHE = join(PROJECT_ROOT, ".cache/real-clis");
export const CLI_BIN = join(CLI_CACHE, "node_modules/.bin");

/** The pinned versions (versions.json). */
export function pinnedVersions(): Record<string, string> {
  return JSON.parse(readFileSync(join(import.meta.dirname, "versions.json"), "utf8")) as Record<string, string>;
}

/** Installs the pinned CLIs from npm into the cache unless that exact set is there already. */
export function installClis(): void {
  const pinned = pinnedVersions();
  const stamp = join(CLI_CACHE, "installed.json");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === JSON.stringify(pinned) && existsSync(CLI_BIN)) return;
  mkdirSync(CLI_CACHE, { recursive: true });
  writeFileSync(join(CLI_CACHE, "package.json"), JSON.stringify({ name: "real-clis", private: true }));
  const specs = Object.entries(pinned).map(([name, version]) => `${name}@${version}`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", "--prefix", CLI_CACHE, ...specs], {
    stdio: "inherit",
    timeout: 600_000,
  });
  writeFileSync(stamp, JSON.stringify(pinned));
}
