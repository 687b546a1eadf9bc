// How every attempt is classified (docs/escalation.md). Quality failures (`test_fail`, `wrong_file`, `unknown`)
// escalate to the next tier; infrastructure failures (`auth_failure`, `network_error`, `timeout`, `syntax_error`,
// `agent_lost`, `resource_limit`, `disk_full`) do not, since another model would fail the same way: a run that outgrew
// the agent's memory, CPU or process limit would outgrow it on the next tier too (docs/faults.md); `cancelled` is a
// person's decision. One table, first matching rule wins; signatures are those docs/cli-formats.md lists.
import type { ExecutorFormat, FailureClass } from "../../protocol/index.ts";
import { MEMORY_SIGNATURES, matchSignature, NETWORK_SIGNATURES, SETUP_SIGNATURES } from "./cli-signatures.ts";
import type { RunReport } from "./formats/run-report.ts";
import type { LimitSettings } from "./process-limits.ts";

/** Everything known about an attempt once it is over. */
export interface AttemptFacts {
  /** The executor's program name, for messages. */
  program: string;
  format: ExecutorFormat;
  /** The agent stopped the CLI itself (cancel, timeout, agent stopping, a limit's watchdog), with its note. */
  stopped?: { as: FailureClass; note: string };
  /** The CLI never ran (missing cwd, program not found): why. */
  notStarted?: string;
  exitCode: number | null;
  signal: string | null;
  report: RunReport;
  /** The last lines of stderr and of stdout, where signatures are looked for. */
  stderr: string;
  stdout: string;
  /** The resource limits the CLI ran under, to name the one it hit. */
  limits?: LimitSettings;
  /** The kernel's OOM killer ended it, as far as the agent can tell (process-group-run.ts). */
  oomKilled?: boolean;
  /** Set once acceptance ran: only after the CLI succeeded. */
  acceptance?: {
    /** Changed files outside `allowed_paths`. */
    outside: string[];
    /** The acceptance command's end, when it ran. */
    command?: {
      line: string;
      exitCode: number | null;
      signal: string | null;
      timedOut: boolean /** Its last 50 lines of output: the evidence kept on the attempt. */;
      tail: string /** How long it ran (the acceptance span, docs/traces.md). */;
      durationMs?: number;
    };
  };
}

export interface Verdict {
  /** Undefined: the attempt succeeded. */
  failure_class?: FailureClass;
  /** What happened and what to do (the task's error message). */
  message?: string;
}

interface Rule {
  failure: FailureClass;
  /** The message when the rule applies; undefined when it does not. */
  applies: (facts: AttemptFacts) => string | undefined;
}

/** Authentication and account failures, by what the CLIs print (docs/cli-formats.md). */
const AUTH_SIGNATURES: RegExp[] = [
  /Invalid API key/i, // claude: "Invalid API key · Fix external API key" / "· Please run /login"
  /Not logged in/i, // claude: no credential at all
  /OAuth token (?:revoked|has expired)/i, // claude
  /Credit balance is too low|belongs to a disabled organization/i, // claude: the account, not the model
  /Incorrect API key provided|\b401 Unauthorized\b|unexpected status 401/i, // codex: turn.failed on 401
  /API key not valid|API_KEY_INVALID|Please set an Auth method|FatalAuthenticationError/i, // gemini
  /Authentication Fails|authentication_error|ProviderAuthError/i, // opencode / DeepSeek
];

/** Claude may print its auth error and still exit 0 (docs/cli-formats.md): the whole output is that one line. */
const CLAUDE_AUTH_LINE = /^(?:Invalid API key|Not logged in|OAuth token revoked) · /;

/** Bad invocations: the executor's command line or setup is wrong, not the model. */
const USAGE_SIGNATURES: RegExp[] = [
  /requires --verbose/i, // claude: stream-json with -p needs --verbose
  // claude (commander), codex (clap)
  /error: (?:unknown option|unexpected argument|invalid value|the argument .* cannot be used)/i,
  /^Usage: /m, // clap and yargs print usage on a bad argument
  /Not inside a trusted directory/i, // codex without --skip-git-repo-check
  /not running in a trusted directory/i, // gemini folder trust (exit 55)
  /You must provide a message or a command/i, // opencode run without a prompt
];

/** Gemini's exit codes that mean a bad invocation: 42 FatalInputError, 52 config, 55 untrusted workspace. */
const GEMINI_USAGE_EXITS = new Set([42, 52, 55]);

/** Signs that a child could not fork under the process limit. */
const NO_MORE_PROCESSES =
  /Resource temporarily unavailable|\bEAGAIN\b.*(?:spawn|fork)|(?:spawn|fork).*\bEAGAIN\b|retry: fork/i;

const isGemini = (format: ExecutorFormat): boolean => format === "gemini-json" || format === "gemini-stream-json";

/** The CLI said it failed, or its exit or output did. */
const cliFailed = (f: AttemptFacts): boolean =>
  f.exitCode !== 0 || f.signal !== null || !f.report.finished || !f.report.success;

/**
 * Where a failure's signature is looked for: the CLI's own error and its stderr; for `text` CLIs also
 * the last lines of stdout. Not the rest of stdout: tool output there (a test about HTTP 401) is not the CLI's failure.
 */
const evidence = (f: AttemptFacts): string =>
  [f.report.error, f.stderr, f.format === "text" ? f.stdout.split("\n").slice(-5).join("\n") : undefined]
    .filter((text) => text !== undefined && text !== "")
    .join("\n");

const firstLine = (text: string | undefined): string =>
  (text ?? "")
    .split("\n")
    .find((line) => line.trim() !== "")
    ?.trim()
    .slice(0, 500) ?? "";

/**
 * The agent's limit a run hit, as its flag; a limit the agent did not set came from the machine (its memory, an
 * inherited rlimit).
 */
const limitWords = (flag: "memory-mb" | "cpu-s" | "max-procs", value: number | undefined): string =>
  value !== undefined && value > 0
    ? `the agent's limit is --${flag} ${value}`
    : `--${flag} is off here, so the machine's own limit was hit`;

const exitWords = (f: AttemptFacts): string =>
  f.signal !== null ? `was killed by ${f.signal}` : f.exitCode === null ? "ended" : `exited with code ${f.exitCode}`;

export const CLASSIFICATION_RULES: readonly Rule[] = [
  // cancelled / agent_lost / timeout / a limit's watchdog: the agent stopped the CLI and knows why; its exit says
  // nothing more.
  { failure: "cancelled", applies: (f) => (f.stopped?.as === "cancelled" ? f.stopped.note : undefined) },
  { failure: "agent_lost", applies: (f) => (f.stopped?.as === "agent_lost" ? f.stopped.note : undefined) },
  { failure: "timeout", applies: (f) => (f.stopped?.as === "timeout" ? f.stopped.note : undefined) },
  // resource_limit, by a watchdog: the Mac's memory watchdog stopped the run; its note names the limit.
  { failure: "resource_limit", applies: (f) => (f.stopped?.as === "resource_limit" ? f.stopped.note : undefined) },
  // budget_exceeded: the agent stopped the run past its cost cap (its reservation, docs/costs.md).
  { failure: "budget_exceeded", applies: (f) => (f.stopped?.as === "budget_exceeded" ? f.stopped.note : undefined) },
  // network_error: the agent stopped a run that waited for the network, or only retried for stall_s
  // (attempt-runner.ts).
  { failure: "network_error", applies: (f) => (f.stopped?.as === "network_error" ? f.stopped.note : undefined) },
  { failure: "unknown", applies: (f) => (f.stopped !== undefined ? f.stopped.note : undefined) },
  // budget_exceeded: claude stopped itself at `--max-budget-usd` (result subtype error_max_budget_usd,
  // docs/cli-formats.md).
  {
    failure: "budget_exceeded",
    applies: (f) =>
      f.report.errorKind === "error_max_budget_usd"
        ? `${f.program} stopped itself at the attempt's cost cap (--max-budget-usd)`
        : undefined,
  },
  // syntax_error: it never ran: the task's cwd is missing, or the program is not installed or not executable.
  { failure: "syntax_error", applies: (f) => f.notStarted },
  // auth_failure: a failed run whose error names a rejected or missing credential (401s, "Invalid API key", …).
  {
    failure: "auth_failure",
    applies: (f) => {
      if (!cliFailed(f)) return undefined;
      const signature = AUTH_SIGNATURES.map((pattern) => pattern.exec(evidence(f))).find((match) => match !== null);
      if (signature === undefined) return undefined;
      return `${f.program} could not authenticate (${firstLine(signature.input.slice(signature.index))}); fix its credentials on this agent`;
    },
  },
  // auth_failure: the API said 401/403 (claude `api_error_status`, opencode `statusCode`).
  {
    failure: "auth_failure",
    applies: (f) =>
      cliFailed(f) && (f.report.errorStatus === 401 || f.report.errorStatus === 403)
        ? `${f.program}'s API refused its credentials (HTTP ${f.report.errorStatus}): ${firstLine(f.report.error)}; fix them on this agent`
        : undefined,
  },
  // auth_failure: gemini's exit 41 (FatalAuthenticationError), or the code 41 in its error JSON.
  {
    failure: "auth_failure",
    applies: (f) =>
      isGemini(f.format) && (f.exitCode === 41 || f.report.errorCode === 41)
        ? `${f.program} has no usable credentials (${firstLine(f.report.error ?? f.stderr)}); set them on this agent`
        : undefined,
  },
  // auth_failure: claude printed only its auth error and exited 0 (older versions).
  {
    failure: "auth_failure",
    applies: (f) =>
      CLAUDE_AUTH_LINE.test(f.stdout.trim()) && !f.stdout.trim().includes("\n")
        ? `${f.program} could not authenticate (${f.stdout.trim()}); fix its credentials on this agent`
        : undefined,
  },
  // resource_limit, memory: a failed run that ran out of memory (the limit refused its allocations), by
  // its own words (cli-signatures.ts); before the usage rules, since `sort: memory exhausted` exits 2.
  {
    failure: "resource_limit",
    applies: (f) => {
      const found = cliFailed(f) ? matchSignature(MEMORY_SIGNATURES, evidence(f)) : undefined;
      return found === undefined
        ? undefined
        : `${f.program} ran out of memory (${exitWords(f)}: ${found.line}; ${limitWords("memory-mb", f.limits?.memoryMb)}): ${found.signature.advice}`;
    },
  },
  // resource_limit, memory: exit 137 is a shell's report of a SIGKILLed process (128 + 9); under the
  // agent's memory limit that is the kernel's out-of-memory killer in the run's cgroup.
  {
    failure: "resource_limit",
    applies: (f) =>
      f.exitCode === 137 && (f.limits?.memoryMb ?? 0) > 0
        ? `${f.program} exited with code 137 (a process of it was killed by SIGKILL: the out-of-memory killer under ${limitWords("memory-mb", f.limits?.memoryMb)}); raise --memory-mb, or give the task less to hold at once`
        : undefined,
  },
  // network_error and syntax_error by the real CLIs' own words (cli-signatures.ts): network first, a
  // model opencode "does not know" offline is a symptom of the missing network.
  {
    failure: "network_error",
    applies: (f) => {
      const found = cliFailed(f)
        ? matchSignature(NETWORK_SIGNATURES, `${evidence(f)}\n${f.stdout.split("\n").slice(-20).join("\n")}`)
        : undefined;
      return found === undefined
        ? undefined
        : `${f.program} could not reach its service (${found.line}): ${found.signature.advice}`;
    },
  },
  {
    failure: "syntax_error",
    applies: (f) => {
      const found = cliFailed(f) ? matchSignature(SETUP_SIGNATURES, evidence(f)) : undefined;
      return found === undefined ? undefined : `${f.program} refused to run (${found.line}): ${found.signature.advice}`;
    },
  },
  // syntax_error: a usage error: clap's exit 2, a bad flag, a refused directory; the executors file needs fixing.
  {
    failure: "syntax_error",
    applies: (f) => {
      if (!cliFailed(f)) return undefined;
      const usage = USAGE_SIGNATURES.find((pattern) => pattern.test(f.stderr) || pattern.test(f.report.error ?? ""));
      if (
        usage === undefined &&
        f.exitCode !== 2 &&
        !(isGemini(f.format) && f.exitCode !== null && GEMINI_USAGE_EXITS.has(f.exitCode))
      )
        return undefined;
      return `${f.program} refused its command line (${exitWords(f)}: ${firstLine(f.stderr || f.report.error)}); fix the command in the executors file`;
    },
  },
  // syntax_error: a shell in the command could not find (127) or run (126) a program.
  {
    failure: "syntax_error",
    applies: (f) =>
      f.exitCode === 126 || f.exitCode === 127
        ? `${f.program} ${exitWords(f)}: a program in the command is missing or not executable (${firstLine(f.stderr)})`
        : undefined,
  },
  // resource_limit, CPU: killed by SIGXCPU, the signal of the `--cpu-s` limit.
  {
    failure: "resource_limit",
    applies: (f) =>
      f.signal === "SIGXCPU"
        ? `${f.program} used up its CPU time limit and was stopped (${limitWords("cpu-s", f.limits?.cpuS)})`
        : undefined,
  },
  // resource_limit, memory: the kernel's OOM killer ended it (a systemd scope's MemoryMax, or the machine's memory ran
  // out).
  {
    failure: "resource_limit",
    applies: (f) =>
      f.oomKilled === true && f.signal === "SIGKILL"
        ? `${f.program} was killed by the kernel's out-of-memory killer (${limitWords("memory-mb", f.limits?.memoryMb)})`
        : undefined,
  },
  // resource_limit, processes: a failed run that could not start more processes.
  {
    failure: "resource_limit",
    applies: (f) =>
      cliFailed(f) && NO_MORE_PROCESSES.test(f.stderr)
        ? `${f.program} hit the process limit (${exitWords(f)}; ${limitWords("max-procs", f.limits?.maxProcs)})`
        : undefined,
  },
  // unknown: the CLI failed for another reason: a non-zero exit, a signal, its own error, or output without its final
  // event.
  {
    failure: "unknown",
    applies: (f) => {
      if (f.exitCode !== 0 || f.signal !== null)
        return `${f.program} ${exitWords(f)}${f.report.error === undefined ? "" : `: ${firstLine(f.report.error)}`}`;
      if (!f.report.finished)
        return `${f.program} exited 0 but its output ended without the final ${f.format} event, so the run was cut short`;
      if (!f.report.success) return `${f.program} reported a failure: ${firstLine(f.report.error) || "no message"}`;
      return undefined;
    },
  },
  // wrong_file: the run changed files outside `acceptance.allowed_paths`.
  {
    failure: "wrong_file",
    applies: (f) => {
      const outside = f.acceptance?.outside ?? [];
      return outside.length === 0
        ? undefined
        : `the run changed ${outside.length} file(s) outside allowed_paths: ${outside.slice(0, 10).join(", ")}`;
    },
  },
  // test_fail: the acceptance command failed (non-zero exit, a signal, or it ran out of time).
  {
    failure: "test_fail",
    applies: (f) => {
      const command = f.acceptance?.command;
      if (command === undefined || (command.exitCode === 0 && command.signal === null && !command.timedOut))
        return undefined;
      const how = command.timedOut
        ? "did not finish in time"
        : command.signal !== null
          ? `was killed by ${command.signal}`
          : `exited with code ${command.exitCode ?? "?"}`;
      return `the acceptance command \`${command.line.slice(0, 200)}\` ${how}`;
    },
  },
];

/** The class of an attempt and why; no class when it succeeded. */
export function classifyAttempt(facts: AttemptFacts): Verdict {
  for (const rule of CLASSIFICATION_RULES) {
    const message = rule.applies(facts);
    if (message !== undefined) return { failure_class: rule.failure, message };
  }
  return {};
}
