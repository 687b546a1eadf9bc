import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package-root.ts";

/** The agent's software version, from the project's package.json ("unknown" if it cannot be read). */
export function packageVersion(): string {
  try {
    const data: unknown = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8"));
    const version = typeof data === "object" && data !== null && "version" in data ? data.version : undefined;
    return typeof version === "string" ? version.slice(0, 64) : "unknown";
  } catch {
    return "unknown";
  }
}
