import { readdirSync, readFileSync } from "node:fs";
import { z } from "zod";
import * as protocol from "../../protocol/index.ts";

/**
 * The wire-fixture corpus (`fixtures/`) and the unions it pins, found by walking protocol/'s
 * exports, so a new message kind shows up here without anyone listing it.
 *
 * - `valid/<kind>.json` or `valid/<kind>.<variant>.json`: one message exactly as it travels.
 * - `rejected/<kind>.<reason>.json`: `{why, expect, field?, message | raw, pad_past_frame_limit?}`, a
 *   frame every wire carrying `<kind>` must refuse with the code `expect` (parseMessage's codes);
 *   `field` is the path the error message must name. `rejected/any.<reason>.json` holds for every wire.
 */

export const FIXTURES = new URL("./fixtures/", import.meta.url);

/** Rejected fixtures named so apply to every wire, not to one kind. */
export const ANY = "any";

/** One discriminated union on `type` exported by protocol/: the messages of one wire direction. */
export type WireUnion = { name: string; schema: z.ZodType<unknown>; kinds: string[] };

export type ValidFixture = { file: string; kind: string | undefined; message: unknown };

export type RejectedFixture = {
  file: string;
  /** The kind the file name starts with, `ANY`, or undefined when it names no kind of any wire. */
  kind: string | undefined;
  why: string;
  expect: "bad_json" | "unknown_type" | "bad_message" | "message_too_large";
  field: string | undefined;
  /** The frame to parse. */
  frame: string;
};

const RejectedFile = z
  .object({
    /** What is wrong with it, for the person reading a failure. */
    why: z.string().min(1),
    expect: z.enum(["bad_json", "unknown_type", "bad_message", "message_too_large"]),
    field: z.string().min(1).optional(),
    message: z.record(z.string(), z.unknown()).optional(),
    raw: z.string().optional(),
    /** Pad the message past MAX_FRAME_BYTES (a fixture file that size would bloat the repository). */
    pad_past_frame_limit: z.literal(true).optional(),
  })
  .strict()
  .refine((file) => (file.message === undefined) !== (file.raw === undefined), "give exactly one of 'message' or 'raw'")
  .refine(
    (file) => file.expect !== "bad_message" || file.field !== undefined,
    "a bad_message fixture names the bad field",
  );

/** Every discriminated union on `type` that protocol/ exports, with the literal `type` of each option. */
export function wireUnions(): WireUnion[] {
  return wireUnionsOf(protocol);
}

/** The discriminated unions on `type` among a module's exports. */
export function wireUnionsOf(exports: Readonly<Record<string, unknown>>): WireUnion[] {
  const unions: WireUnion[] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (!(value instanceof z.ZodDiscriminatedUnion) || value.def.discriminator !== "type") continue;
    unions.push({ name, schema: value, kinds: value.options.map((option) => literalType(name, option)) });
  }
  return unions.sort((a, b) => a.name.localeCompare(b.name));
}

function literalType(union: string, option: unknown): string {
  if (option instanceof z.ZodObject) {
    const type: unknown = option.shape.type;
    if (type instanceof z.ZodLiteral && type.values.size === 1) {
      const [value] = type.values;
      if (typeof value === "string") return value;
    }
  }
  throw new Error(`${union}: an option has no single string literal 'type'; the fixture corpus cannot name it`);
}

/**
 * The kind a fixture's file name starts with: the longest known one followed by "." or the end
 * (kinds hold dots themselves, so `task.cancel.bare` is `task.cancel`, not `task`).
 */
export function kindOfFile(file: string, kinds: ReadonlySet<string>): string | undefined {
  const stem = file.replace(/\.json$/, "");
  let found: string | undefined;
  for (const kind of kinds) {
    if ((stem === kind || stem.startsWith(`${kind}.`)) && (found === undefined || kind.length > found.length))
      found = kind;
  }
  return found;
}

function readJson(folder: string, file: string): unknown {
  return JSON.parse(readFileSync(new URL(`${folder}/${file}`, FIXTURES), "utf8")) as unknown;
}

function jsonFiles(folder: string): string[] {
  return readdirSync(new URL(`${folder}/`, FIXTURES))
    .filter((file) => file.endsWith(".json"))
    .sort();
}

export function validFixtures(kinds: ReadonlySet<string>): ValidFixture[] {
  return jsonFiles("valid").map((file) => ({ file, kind: kindOfFile(file, kinds), message: readJson("valid", file) }));
}

export function rejectedFixtures(kinds: ReadonlySet<string>): RejectedFixture[] {
  return jsonFiles("rejected").map((file) => {
    const parsed = RejectedFile.safeParse(readJson("rejected", file));
    if (!parsed.success)
      throw new Error(
        `fixtures/rejected/${file}: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
      );
    const { why, expect, field, message, raw, pad_past_frame_limit: pad } = parsed.data;
    const frame = raw ?? JSON.stringify(pad ? { ...message, pad: "x".repeat(protocol.MAX_FRAME_BYTES) } : message);
    return { file, kind: kindOfFile(file, new Set([...kinds, ANY])), why, expect, field, frame };
  });
}

/** Kinds of the unions with no fixture among `covered`, as lines that say which file to add. */
export function kindsWithout(
  unions: readonly WireUnion[],
  covered: ReadonlySet<string>,
  folder: "valid" | "rejected",
): string[] {
  return unions.flatMap((union) =>
    union.kinds
      .filter((kind) => !covered.has(kind))
      .map(
        (kind) =>
          `${union.name} '${kind}': add fixtures/${folder}/${kind}${folder === "valid" ? "" : ".<reason>"}.json`,
      ),
  );
}
