import { z } from "zod";

/** How a run is validated before it is accepted ("validate before accepting"). */
export const Acceptance = z
  .object({
    /** A shell command line (`sh -c`) run in the task's cwd after the CLI succeeds; exit 0 accepts. */
    command: z.string().min(1).max(10_000).optional(),
    /** Globs relative to cwd that the run may change; a change elsewhere fails as `wrong_file`. */
    allowed_paths: z.array(z.string().min(1).max(1000)).max(200).optional(),
  })
  .strict();
export type Acceptance = z.infer<typeof Acceptance>;
