// What real coding CLIs print when the machine, not the model, is at fault (docs/cli-formats.md): one commented table,
// each signature with the CLI version it was seen in (claude-code 2.1.197, codex 0.171.0, gemini 0.61.0, opencode
// 1.18.33, run as root with no credentials and no network). failure-classes.ts matches them; attempt-runner.ts stops a
// run at a fail-fast one instead of waiting for its timeout.

/** A signature, the CLI and version it was seen in, and what the person should do. */
export interface CliSignature {
  pattern: RegExp;
  seenIn: string;
  advice: string;
}

/** The machine cannot reach the CLI's service: no escalation, another tier would fail the same way. */
export const NETWORK_SIGNATURES: readonly CliSignature[] = [
  {
    pattern: /Reconnecting\.\.\. waiting for network/i,
    seenIn: "codex 0.171.0 (it then waits for ever)",
    advice: "the agent's machine has no network route to the CLI's API; fix its network or proxy",
  },
  {
    pattern: /failed to lookup address information|Name does not resolve/i,
    seenIn: "codex 0.171.0",
    advice: "DNS does not resolve the CLI's API host on the agent's machine; fix its network or DNS",
  },
  {
    pattern: /Failed to fetch models\.dev/i,
    seenIn: "opencode 1.18.33 (--print-logs)",
    advice: "opencode cannot load its model list (models.dev) from the agent's machine; fix its network or proxy",
  },
  {
    pattern: /Unable to connect\. Is the computer able to access the url\?/i,
    seenIn: "opencode 1.18.33 (--print-logs)",
    advice: "opencode cannot reach its providers from the agent's machine; fix its network or proxy",
  },
  {
    pattern:
      /\b(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH)\b|getaddrinfo|fetch failed|Connection error\./i,
    seenIn: "node-based CLIs (claude, gemini) without a route",
    advice: "the CLI cannot reach its API from the agent's machine; fix its network or proxy",
  },
];

/** The executors file or the machine must change: a refused flag, a model the CLI does not know. */
export const SETUP_SIGNATURES: readonly CliSignature[] = [
  {
    pattern: /--dangerously-skip-permissions cannot be used with root\/sudo privileges/i,
    seenIn: "claude 2.1.197 (--permission-mode bypassPermissions, as root)",
    advice:
      'claude refuses bypassPermissions as root: in the executors file set "env": {"IS_SANDBOX": "1"} for this executor (the agent runs in a sandboxed VM), use --permission-mode acceptEdits, or run the agent as another user',
  },
  {
    pattern: /ProviderModelNotFoundError|Model not found: /i,
    seenIn: "opencode 1.18.33",
    advice: "opencode does not know the model in the executor's -m; fix the model name in the executors file",
  },
];

/**
 * A child ran out of memory (docs/faults.md): the agent's limit, or the machine's, refused an
 * allocation. Another tier would hit the same limit: `resource_limit`, no escalation.
 */
export const MEMORY_SIGNATURES: readonly CliSignature[] = [
  {
    pattern: /\bmemory exhausted\b/i,
    seenIn: "GNU coreutils 9.x tail, sort, grep, and bison (xalloc_die)",
    advice: "raise the agent's --memory-mb, or give the task less data to hold at once",
  },
  {
    pattern: /Cannot allocate memory/i,
    seenIn: "glibc strerror(ENOMEM): git, cp, bash fork and most C programs",
    advice: "raise the agent's --memory-mb, or free memory on the agent's machine",
  },
  {
    pattern: /\bENOMEM\b/,
    seenIn: "node (spawn ENOMEM) and libuv errors",
    advice: "raise the agent's --memory-mb, or free memory on the agent's machine",
  },
  {
    pattern: /std::bad_alloc/,
    seenIn: "C++ programs (terminate called after throwing 'std::bad_alloc')",
    advice: "raise the agent's --memory-mb, or give the task less data to hold at once",
  },
  {
    pattern: /JavaScript heap out of memory|Array buffer allocation failed/i,
    seenIn: "node 18-24 (V8 heap limit, ArrayBuffer refused under an rlimit)",
    advice: "raise the agent's --memory-mb, or NODE_OPTIONS=--max-old-space-size for the CLI",
  },
  {
    pattern: /MemoryError|\bout of memory\b/i,
    seenIn: "python (MemoryError), rustc and Go runtimes (out of memory)",
    advice: "raise the agent's --memory-mb, or free memory on the agent's machine",
  },
];

/**
 * Lines that only say the CLI is retrying: a run that prints nothing else for `stall_s` is stopped as `network_error`.
 */
export const RETRY_LINE = /Reconnecting|retrying|Retrying in|retry attempt|waiting for network|rate limit.*retry/i;

/** A signature of `table` in `text`: the first that matches, with the line it matched. */
export function matchSignature(
  table: readonly CliSignature[],
  text: string,
): { signature: CliSignature; line: string } | undefined {
  for (const signature of table) {
    const match = signature.pattern.exec(text);
    if (match === null) continue;
    // The words around the match, within its line: a log line's timestamp and fields say nothing to a person.
    const lineStart = text.lastIndexOf("\n", match.index) + 1;
    const lineEnd = text.indexOf("\n", match.index);
    const from = Math.max(lineStart, match.index - 60);
    const to = Math.min(lineEnd === -1 ? text.length : lineEnd, match.index + match[0].length + 100);
    return {
      signature,
      line: `${from > lineStart ? "…" : ""}${text.slice(from, to).trim()}${to < (lineEnd === -1 ? text.length : lineEnd) ? "…" : ""}`,
    };
  }
  return undefined;
}

/** A line that should stop the run at once (the CLI would otherwise wait for ever). */
export const FAIL_FAST: readonly CliSignature[] = [NETWORK_SIGNATURES[0] as CliSignature];

/**
 * The CLI refused to continue the session it was asked to resume (its session file is gone: another
 * machine, a cleaned HOME): nothing ran. The agent runs it again fresh, on the same attempt, with the
 * full prompt (docs/resume.md). Each seen with a made-up session id under a fresh HOME.
 */
export const RESUME_REFUSED_SIGNATURES: readonly CliSignature[] = [
  {
    pattern: /No conversation found with session ID/i,
    seenIn: "claude 2.1.197 (-p --resume <uuid>, exit 1; stderr and the result event's errors)",
    advice: "the session's transcript is not on this machine; the attempt runs fresh",
  },
  {
    pattern: /--resume requires a valid session ID/i,
    seenIn: "claude 2.1.197 (-p --resume <not a uuid>, exit 1)",
    advice: "the session id is not one claude knows; the attempt runs fresh",
  },
  {
    pattern: /no rollout found for thread id/i,
    seenIn: "codex 0.171.0 (exec resume <id>, exit 1: 'thread/resume failed: no rollout found for thread id …')",
    advice: "the session's rollout file is not under this CODEX_HOME; the attempt runs fresh",
  },
  {
    pattern: /Session not found/i,
    seenIn: "opencode 1.18.33 (run --session <id>, exit 1: 'Error: Session not found')",
    advice: "the session is not in this opencode's storage; the attempt runs fresh",
  },
];
