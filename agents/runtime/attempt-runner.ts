// One attempt from start to verdict: snapshot the work tree, run the executor's CLI (its output read
// by the executor's format into readable lines and a report), check acceptance when the CLI
// succeeded, then classify. Every child runs in its own process group under the supervisor's limits.
import { statSync } from "node:fs";
import { basename } from "node:path";
import type {
  Acceptance,
  AttemptExit,
  AttemptOutcome,
  ExecutorSpec,
  FailureClass,
  LogStream,
  OutputLine,
  Result,
  Tokens,
} from "../../protocol/index.ts";
import { type AcceptanceOutcome, checkAcceptance } from "./acceptance-check.ts";
import { BUDGET_KILL_GRACE_MS, type CostCap, CostCapWatch } from "./attempt-cost-cap.ts";
import { environmentAt } from "./child-directory-env.ts";
import { codexThreadTotal, pastThreadTotal } from "./codex-thread-usage.ts";
import { familyOfFormat, RateTable } from "./cost-rates.ts";
import { type AttemptFacts, classifyAttempt } from "./failure-classes.ts";
import { parserFor, type RunReport, totalInput } from "./formats/index.ts";
import { LineSplitter } from "./line-splitter.ts";
import { LineTail } from "./line-tail.ts";
import { modelFromCommand } from "./model-from-command.ts";
import { DEFAULT_STALL_S, NetworkWatch } from "./network-watch.ts";
import { type GroupEnd, type RunningGroup, runProcessGroup } from "./process-group-run.ts";
import type { ProcessSupervisor } from "./process-limits.ts";
import { refusalNote, resumeRefusal } from "./resume-refusal.ts";
import { changedFiles, snapshotWorkTree } from "./work-tree-changes.ts";

export interface AttemptRunInput {
  executor: ExecutorSpec;
  prompt: string;
  cwd: string;
  /**
   * The CLI session to continue (docs/resume.md): the executor's `resume` pieces, with this id, go into the command.
   */
  resumeSession?: string;
  /**
   * With `resumeSession`: the prompt for a fresh start (the task's full prompt, with the earlier
   * attempts' evidence and any guidance). A resume the CLI refuses is run again with it, fresh, in the
   * same cwd (docs/resume.md).
   */
  freshPrompt?: string;
  /** Called once, as soon as the CLI's output names its session id (so the mesh can resume it after a loss). */
  onSession?: (sessionId: string) => void;
  acceptance?: Acceptance;
  supervisor?: ProcessSupervisor;
  /** Prices for CLIs that report no cost; the built-in table by default. */
  rates?: RateTable;
  /**
   * The attempt's cost cap (docs/costs.md): passed to a CLI that takes one (claude `--max-budget-usd`),
   * and enforced from the usage the CLI streams: a run that goes on past it stops as `budget_exceeded`;
   * one whose cost passed it only at its end keeps its result, marked `over_cap`.
   */
  costCap?: CostCap;
  /** Every output line, in order: stdout, stderr, and the runner's own `system` notes. */
  onLine: (line: OutputLine) => void;
  /** The CLI was spawned (after the work tree snapshot). */
  onStarted?: (pid: number) => void;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** After a child exits, how long its pipes may stay open (held by leftovers) before those are killed. */
  drainMs?: number;
  /**
   * In a worktree: commits what the CLI changed, before acceptance runs (so the check's own files stay
   * out of the commit), and says what the commit holds (docs/work-isolation.md).
   */
  commitWork?: () => Promise<Result<WorkFacts, string>>;
  /**
   * Whether to find the files the run changed by snapshots of cwd's git state (default true). Off for
   * a task that named no cwd (it runs in the agent's workdir, whose changes are nobody's business) and
   * for a worktree (its commit says what changed): each snapshot costs a few git processes.
   */
  trackChanges?: boolean;
}

/** What an attempt's commit holds, as `attempt.exit` reports it. */
export type WorkFacts = Pick<
  AttemptExit,
  "isolation" | "branch" | "base" | "commit" | "diff_stat" | "diff_truncated" | "diff_fingerprint" | "checkout"
> & {
  /** Changed files relative to the attempt's cwd: what `allowed_paths` is judged on. */
  changed_files: string[];
};

/** How an attempt ended: the fields of `attempt.exit` the runner knows (docs/wire-protocol.md). */
export type AttemptResult = AttemptOutcome;

export interface RunningAttempt {
  /** The pid (also the process group id) of the child running now: the CLI, then the acceptance command. */
  readonly pid: number | undefined;
  readonly program: string;
  /** Stops the attempt: its current child's process group gets SIGTERM, then SIGKILL; nothing further starts. */
  stop(failureClass: FailureClass, note: string): void;
  /** Stops reading the current child's pipes or reads them again (backpressure). */
  throttle(paused: boolean): void;
  readonly done: Promise<AttemptResult>;
}

export const DEFAULT_KILL_GRACE_MS = 5000;
const DEFAULT_DRAIN_MS = 2000;
const OUTPUT_CHARS = 16_000;
/**
 * A JSON event line is read whole up to this size (a tool result holding a file easily passes the
 * wire's line limit); the readable lines made from it are cut to the wire's limit.
 */
const MAX_EVENT_LINE_CHARS = 16 * 1024 * 1024;
/** The mesh's secret is the agent's, not the executor's: children never see it. */
const WITHHELD_ENV = ["MESH_AGENT_TOKEN"];

/**
 * The executor's command with every `{prompt}` replaced by the prompt, each element staying one
 * argument; to continue a session, the executor's `resume` pieces with `{session_id}` filled in go
 * just before the element holding `{prompt}` (at the end when none does), as ExecutorSpec says.
 */
export function commandFor(
  executor: ExecutorSpec,
  prompt: string,
  costCapUsd?: number,
  resumeSession?: string,
): string[] {
  const command = executor.command.map((part) => part.split("{prompt}").join(prompt));
  if (resumeSession !== undefined && executor.resume !== undefined) {
    const at = executor.command.findIndex((part) => part.includes("{prompt}"));
    command.splice(
      at < 0 ? command.length : at,
      0,
      ...executor.resume.map((piece) => piece.split("{session_id}").join(resumeSession)),
    );
  }
  // Claude Code stops itself at a budget (`--max-budget-usd`, result subtype error_max_budget_usd), given
  // to four decimals: a cap of $0.0168 rounded to cents would let it spend $0.02.
  const claude =
    basename(command[0] ?? "") === "claude" &&
    (executor.format === "claude-stream-json" || executor.format === "claude-json");
  if (costCapUsd === undefined || costCapUsd <= 0 || !claude || command.includes("--max-budget-usd")) return command;
  return [...command, "--max-budget-usd", costCapUsd.toFixed(4)];
}

export function runAttempt(input: AttemptRunInput): RunningAttempt {
  let command = commandFor(input.executor, input.prompt, input.costCap?.usd, input.resumeSession);
  const program = basename(command[0] ?? "");
  const startedAt = performance.now();
  const killGraceMs = input.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const drainMs = input.drainMs ?? DEFAULT_DRAIN_MS;
  const emit = (stream: LogStream, text: string): void => input.onLine({ stream, text, ts: Date.now() });
  const note = (text: string): void => emit("system", text);
  // Display lines may hold newlines or be longer than the wire allows: cut them like raw output.
  const shown = new LineSplitter((text) => emit("stdout", text));
  const show = (text: string): void => shown.push(`${text}\n`);

  // Parsers never throw by contract; should one break on a line anyway, the line is shown as it
  // came (cut to the wire's size), the fault is noted, and the agent goes on.
  let parserFault = false;
  const readSafely = <T>(read: () => T, line: string): T | string[] => {
    try {
      return read();
    } catch (cause) {
      if (!parserFault)
        note(
          `[agent] the ${input.executor.format} reader failed on a line (${cause instanceof Error ? cause.message : String(cause)}); showing such lines as they are`,
        );
      parserFault = true;
      return [line.slice(0, 64 * 1024)];
    }
  };

  let current: RunningGroup | undefined;
  let stopped: { as: FailureClass; note: string } | undefined;
  let paused = false;
  /**
   * Stops the running child for the runner's own reason; the group notes a stop it takes, so the note is written once.
   */
  const stopFor = (as: FailureClass, text: string, killGraceMs?: number): void => {
    stopped = { as, note: text };
    if (current?.stop(as, text, killGraceMs) !== true) note(`[agent] ${text}`);
  };

  let rerunFresh = false;
  const run = async (): Promise<AttemptResult> => {
    const duration = (): number => Math.round(performance.now() - startedAt);
    const cwd = checkDirectory(input.cwd);
    const never = (message: string): AttemptResult => {
      note(`[agent] ${message}`);
      return {
        exit_code: null,
        signal: null,
        duration_ms: duration(),
        error: { code: "internal", message },
        failure_class: "syntax_error",
      };
    };
    if (!cwd.ok) return never(cwd.error.message);
    const before =
      input.commitWork !== undefined || input.trackChanges === false ? undefined : await snapshotWorkTree(input.cwd);
    if (stopped !== undefined) {
      note(`[agent] ${stopped.note}`);
      return {
        exit_code: null,
        signal: null,
        duration_ms: duration(),
        failure_class: stopped.as,
        error: { code: "internal", message: stopped.note },
      };
    }

    // PWD says the child's own directory, not the agent's (docs/faults.md): a CLI that trusts it works where it is
    // told.
    const env: NodeJS.ProcessEnv = environmentAt({ ...process.env, ...input.executor.env }, input.cwd);
    for (const name of WITHHELD_ENV) delete env[name];
    // A resumed codex thread restates its earlier runs' usage: only what this run added is its own (docs/costs.md).
    const threadBefore =
      input.executor.format === "codex-jsonl" && input.resumeSession !== undefined && !rerunFresh
        ? await codexThreadTotal(env, input.resumeSession)
        : undefined;
    const parser =
      threadBefore === undefined
        ? parserFor(input.executor.format)
        : pastThreadTotal(parserFor(input.executor.format), threadBefore);
    const cap = input.costCap;
    const capWatch =
      cap === undefined
        ? undefined
        : new CostCapWatch({
            cap,
            format: input.executor.format,
            model: modelFromCommand(input.executor.command),
            rates: input.rates ?? new RateTable(),
            onPast: (text) => {
              if (stopped === undefined) stopFor("budget_exceeded", text, BUDGET_KILL_GRACE_MS);
            },
          });
    let sessionSeen: string | undefined;
    // A CLI waiting for the network would wait until its timeout (codex: for ever): stopped at once, or after stall_s
    // of only retries.
    const network = new NetworkWatch(program, (input.executor.stall_s ?? DEFAULT_STALL_S) * 1000, (text) => {
      if (stopped === undefined) stopFor("network_error", text);
    });
    const stdoutTail = new LineTail(100);
    const stderrTail = new LineTail(40);
    const cli = runProcessGroup({
      command,
      cwd: input.cwd,
      env,
      supervisor: input.supervisor,
      timeoutS: input.executor.timeout_s,
      killGraceMs,
      drainMs,
      ...(input.executor.format === "text" ? {} : { maxStdoutLineChars: MAX_EVENT_LINE_CHARS }),
      onStdout: (line) => {
        network.watch(line);
        for (const text of readSafely(() => parser.stdout(line), line)) {
          stdoutTail.push(text);
          show(text);
        }
        if (sessionSeen === undefined && parser.session !== undefined) {
          sessionSeen = parser.session();
          if (sessionSeen !== undefined) input.onSession?.(sessionSeen.slice(0, 200));
        }
        if (stopped === undefined) capWatch?.check(parser);
      },
      onStderr: (line) => {
        network.watch(line);
        readSafely(() => parser.stderr(line), line);
        stderrTail.push(line);
        emit("stderr", line);
      },
      onNote: note,
    });
    current = cli;
    if (paused) cli.throttle(true);
    if (cli.pid !== undefined) input.onStarted?.(cli.pid);
    const end: GroupEnd = await cli.done.finally(() => network.end());
    if (end.startError !== undefined) return never(end.startError);
    const parsed = parser.end();
    for (const text of parsed.lines) {
      stdoutTail.push(text);
      show(text);
    }
    shown.end();
    // Cut short (a stop at the cost cap, a kill): no final event told the totals; what streamed until then is what it
    // cost.
    const spentSoFar =
      parsed.report.usage.length === 0 && parsed.report.costUsd === undefined ? parser.spent?.() : undefined;
    const report: RunReport =
      spentSoFar === undefined
        ? parsed.report
        : {
            ...parsed.report,
            usage: spentSoFar.usage,
            ...(spentSoFar.costUsd === undefined ? {} : { costUsd: spentSoFar.costUsd }),
          };
    // Asked to resume a session the CLI no longer has: it ran nothing; run it again fresh, once (docs/resume.md).
    // Looked for where failures are classed: the CLI's stderr and own error, stdout only for a `text`
    // CLI (a JSON CLI's stdout carries its tools' output, which may say "Session not found" itself).
    const refused =
      input.resumeSession === undefined ||
      input.freshPrompt === undefined ||
      rerunFresh ||
      stopped !== undefined ||
      end.stopped !== undefined
        ? undefined
        : resumeRefusal({
            exitCode: end.exitCode,
            stderr: stderrTail.text(),
            stdout: input.executor.format === "text" ? stdoutTail.text() : "",
            ...(report.error === undefined ? {} : { reportError: report.error }),
          });
    if (refused !== undefined && input.resumeSession !== undefined && input.freshPrompt !== undefined) {
      emit("system", refusalNote(input.resumeSession, refused));
      rerunFresh = true;
      command = commandFor(input.executor, input.freshPrompt, input.costCap?.usd);
      return { ...(await run()), resume_refused: true };
    }
    const work = input.commitWork === undefined ? undefined : await input.commitWork();
    if (work !== undefined && !work.ok) note(`[agent] could not commit the attempt's work: ${work.error}`);
    const after = before === undefined || work?.ok === true ? undefined : await snapshotWorkTree(input.cwd);
    const changed =
      work?.ok === true
        ? work.value.changed_files
        : before === undefined || after === undefined
          ? undefined
          : await changedFiles(before, after, input.cwd);
    if (work?.ok === true && work.value.diff_stat !== undefined) {
      const stat = work.value.diff_stat;
      note(
        `[agent] ${work.value.commit === undefined ? "the attempt changed nothing" : `committed ${work.value.commit.slice(0, 12)} on ${work.value.branch}: ${stat.files} files, +${stat.insertions} -${stat.deletions}${work.value.diff_truncated ? " (diff cut at the size cap; the branch holds all of it)" : ""}`}`,
      );
    }

    const facts: AttemptFacts = {
      program,
      format: input.executor.format,
      stopped: stopped ?? end.stopped,
      exitCode: end.exitCode,
      signal: end.signal,
      report,
      stderr: stderrTail.text(),
      stdout: stdoutTail.text(),
      limits: input.supervisor?.limits,
      ...(end.oomKilled === true ? { oomKilled: true } : {}),
    };
    const outcome = describeRun(report, input);
    if (outcome.summary !== undefined) note(`[agent] ${outcome.summary}`);
    let verdict = classifyAttempt(facts);
    const overCap = capWatch?.overCap(
      outcome.fields.cost_usd,
      facts.stopped?.as === "budget_exceeded" || verdict.failure_class === "budget_exceeded",
    );
    if (overCap !== undefined) note(`[agent] ${overCap}`);
    let evidence: AttemptResult["acceptance"];
    if (verdict.failure_class === undefined && input.acceptance !== undefined && stopped === undefined) {
      const acceptance: AcceptanceOutcome = await checkAcceptance({
        acceptance: input.acceptance,
        cwd: input.cwd,
        changed,
        env,
        supervisor: input.supervisor,
        timeoutS: input.executor.timeout_s,
        killGraceMs,
        drainMs,
        onLine: emit,
        onStart: (group) => {
          current = group;
          if (paused) group.throttle(true);
          if (stopped !== undefined) group.stop(stopped.as, stopped.note);
        },
      });
      verdict = classifyAttempt({ ...facts, stopped, acceptance });
      const ran = acceptance.command;
      if (ran !== undefined)
        evidence = {
          command: ran.line,
          exit_code: ran.exitCode,
          passed: ran.exitCode === 0 && !ran.timedOut,
          output_tail: ran.tail,
          duration_ms: ran.durationMs,
        };
    }
    // A stop was noted when it happened; other failures are named here, for whoever watches the log.
    if (verdict.failure_class !== undefined && facts.stopped === undefined)
      note(`[agent] ${verdict.failure_class}: ${verdict.message ?? "failed"}`);
    const output =
      report.result?.slice(0, OUTPUT_CHARS) ??
      (stdoutTail.size > 0 ? stdoutTail.text(OUTPUT_CHARS) : report.error?.slice(0, OUTPUT_CHARS));
    return {
      exit_code: end.exitCode,
      signal: end.signal,
      duration_ms: duration(),
      ...(output === undefined || output === "" ? {} : { output }),
      ...(verdict.failure_class === undefined
        ? {}
        : {
            failure_class: verdict.failure_class,
            error: { code: "internal", message: verdict.message ?? verdict.failure_class },
          }),
      ...outcome.fields,
      ...(changed === undefined ? {} : { changed_files: changed }),
      ...(work?.ok === true ? workFields(work.value) : {}),
      ...(evidence === undefined ? {} : { acceptance: evidence }),
      ...(overCap === undefined ? {} : { over_cap: true }),
    };
  };

  const done = run();
  return {
    get pid() {
      return current?.pid;
    },
    program,
    stop(failureClass, text) {
      if (stopped !== undefined) return;
      stopped = { as: failureClass, note: text };
      current?.stop(failureClass, text);
    },
    throttle(value) {
      paused = value;
      current?.throttle(value);
    },
    done,
  };
}

function workFields(work: WorkFacts): Partial<AttemptResult> {
  const { changed_files: _changed, ...fields } = work;
  return fields;
}

/** Model, session, tokens and cost of a run, and the line that tells them in the log. */
function describeRun(report: RunReport, input: AttemptRunInput): { fields: Partial<AttemptResult>; summary?: string } {
  const model = report.model ?? modelFromCommand(input.executor.command);
  const family = familyOfFormat[input.executor.format];
  const tokens: Tokens | undefined =
    report.usage.length === 0
      ? undefined
      : {
          input: report.usage.reduce((sum, u) => sum + totalInput(u), 0),
          output: report.usage.reduce((sum, u) => sum + u.output, 0),
        };
  const cost =
    report.costUsd ??
    (family === undefined || report.usage.length === 0
      ? undefined
      : (input.rates ?? new RateTable()).costOf(report.usage, model, family));
  const fields: Partial<AttemptResult> = {
    ...(model === undefined ? {} : { model: model.slice(0, 200) }),
    ...(report.sessionId === undefined ? {} : { session_id: report.sessionId.slice(0, 200) }),
    ...(tokens === undefined ? {} : { tokens }),
    ...(cost === undefined ? {} : { cost_usd: Math.max(0, cost) }),
  };
  const parts = [
    model,
    tokens === undefined
      ? undefined
      : `${tokens.input.toLocaleString("en-US")} tokens in, ${tokens.output.toLocaleString("en-US")} out`,
    cost === undefined ? undefined : `$${cost.toFixed(4)}${report.costUsd === undefined ? " (from rates)" : ""}`,
    report.sessionId === undefined ? undefined : `session ${report.sessionId}`,
  ].filter((part) => part !== undefined);
  return { fields, ...(parts.length === 0 ? {} : { summary: parts.join(" · ") }) };
}

/** The task's cwd must be a directory on this agent: `not_a_directory` or `absent` otherwise. */
function checkDirectory(cwd: string): Result<void, { code: "not_a_directory" | "absent"; message: string }> {
  try {
    return statSync(cwd).isDirectory()
      ? { ok: true, value: undefined }
      : {
          ok: false,
          error: { code: "not_a_directory", message: `the task's cwd '${cwd}' is not a directory on this agent` },
        };
  } catch {
    return {
      ok: false,
      error: {
        code: "absent",
        message: `the task's cwd '${cwd}' does not exist on this agent; give a directory that exists on the agent's machine`,
      },
    };
  }
}
