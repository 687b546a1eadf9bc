// Every command helps (docs/command-line.md): `--help` and `--version` everywhere, and a bad flag gets one
// line saying what is wrong plus the usage, with exit code 2, never a stack trace.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { packageVersion } from "../agents/runtime/package-version.ts";
import type { Result } from "../protocol/result.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * The command's flags, after answering `--help` (usage on stdout, exit 0), `--version`
 * (`<program> <version>`, exit 0) and anything unknown or malformed (one line and the usage on
 * stderr, exit 2). `exit` is injectable for tests.
 */
export function readCommandLine<O extends Options>(
  program: string,
  usage: string,
  options: O,
  argv: readonly string[] = process.argv.slice(2),
  exit: (code: number) => never = (code) => process.exit(code),
): ReturnType<typeof parseArgs<{ options: O; args: string[]; strict: true; allowPositionals: false }>>["values"] {
  const all = { ...options, help: { type: "boolean", short: "h" }, version: { type: "boolean" } } as const;
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options: all, strict: true, allowPositionals: false }).values;
  } catch (error) {
    process.stderr.write(
      `${program}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n${usage.trimEnd()}\n`,
    );
    return exit(2);
  }
  if (values.help === true) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    return exit(0);
  }
  if (values.version === true) {
    process.stdout.write(`${program} ${packageVersion()}\n`);
    return exit(0);
  }
  return values as ReturnType<
    typeof parseArgs<{ options: O; args: string[]; strict: true; allowPositionals: false }>
  >["values"];
}

/** A refusal before anything starts: one line on stderr, exit code 2 (as a bad flag gets). */
export function exitWith(line: string): never {
  process.stderr.write(`${line}\n`);
  return process.exit(2);
}

/** The value of a local outcome, or its refusal as one `error:` line with exit code 2 (docs/local-errors.md). */
export function valueOrExit<T>(result: Result<T, { message: string }>): T {
  return result.ok ? result.value : exitWith(`error: ${result.error.message}`);
}
