// One attempt from start to verdict: snapshot the work tree, run the executor's CLI (its output read
// by the executor's format into readable lines and a report), check acceptance when the CLI
// succeeded, then classify. Every child runs in its own process group under the supervisor's limits.
import { basename } from "node:path";
import type { FailureClass, LogStream } from "../../protocol/index.ts";
import { type AcceptanceOutcome, checkAcceptance } from "./acceptance-check.ts";
import { commandFor } from "./attempt-command.ts";
import { BUDGET_KILL_GRACE_MS, CostCapWatch } from "./attempt-cost-cap.ts";
import { describeRun, workFields } from "./attempt-report-fields.ts";
import type { AttemptResult, AttemptRunInput, RunningAttempt } from "./attempt-run-types.ts";
import { environmentAt } from "./child-directory-env.ts";
import { codexThreadTotal, pastThreadTotal } from "./codex-thread-usage.ts";
import { RateTable } from "./cost-rates.ts";
import { type AttemptFacts, classifyAttempt } from "./failure-classes.ts";
import { parserFor, type RunReport } from "./formats/index.ts";
import { LineSplitter } from "./line-splitter.ts";
import { LineTail } from "./line-tail.ts";
import { modelFromCommand } from "./model-from-command.ts";
import { DEFAULT_STALL_S, NetworkWatch } from "./network-watch.ts";
import { type GroupEnd, type RunningGroup, runProcessGroup } from "./process-group-run.ts";
import { refusalNote, resumeRefusal } from "./resume-refusal.ts";
import { checkDirectory } from "./task-cwd-check.ts";
import { changedFiles, snapshotWorkTree } from "./work-tree-changes.ts";

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
