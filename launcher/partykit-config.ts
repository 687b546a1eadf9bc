// partykit.json, the worker's one config: read and parsed here for the dev server, the production bundle
// check and the page weight, instead of each trusting its own cast (docs/command-line.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** The keys the launcher reads; every other key (name, compatibilityDate…) is kept as it is for partykit. */
export const PartykitConfig = z.looseObject({
  /** The worker's entry, relative to the config's folder. */
  main: z.string(),
  /** Party name → its room's module. */
  parties: z.record(z.string(), z.string()).optional(),
  /** The page: static files and the bundle partykit builds. */
  serve: z
    .looseObject({
      path: z.string().optional(),
      build: z.looseObject({ entry: z.string().optional(), outdir: z.string().optional() }).optional(),
    })
    .optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  compatibilityFlags: z.array(z.string()).optional(),
});
export type PartykitConfig = z.infer<typeof PartykitConfig>;

/**
 * `root`/partykit.json, parsed. It ships with the project, so a file that does not parse is a fault of the checkout:
 * thrown.
 */
export function readPartykitConfig(root: string): PartykitConfig {
  return PartykitConfig.parse(JSON.parse(readFileSync(join(root, "partykit.json"), "utf8")));
}
