// The fields of `attempt.exit` a run's report and its commit give (docs/wire-protocol.md, docs/costs.md).
import type { Tokens } from "../../protocol/index.ts";
import type { AttemptResult, AttemptRunInput, WorkFacts } from "./attempt-run-types.ts";
import { familyOfFormat, RateTable } from "./cost-rates.ts";
import { type RunReport, totalInput } from "./formats/index.ts";
import { modelFromCommand } from "./model-from-command.ts";

export function workFields(work: WorkFacts): Partial<AttemptResult> {
  const { changed_files: _changed, ...fields } = work;
  return fields;
}

/** Model, session, tokens and cost of a run, and the line that tells them in the log. */
export function describeRun(
  report: RunReport,
  input: AttemptRunInput,
): { fields: Partial<AttemptResult>; summary?: string } {
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
