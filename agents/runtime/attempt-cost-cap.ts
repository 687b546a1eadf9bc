// An attempt's cost cap (docs/costs.md): the cost the CLI streams is checked after every line of its
// output, and a run that goes on past the cap is stopped as `budget_exceeded`. A cost the CLI reports
// only at its end cannot stop anything: the run keeps its result and is marked `over_cap`.
import type { AttemptCap, ExecutorFormat } from "../../protocol/index.ts";
import { familyOfFormat, type RateTable } from "./cost-rates.ts";
import type { OutputParser, SpendSoFar } from "./formats/index.ts";

/**
 * The cap and which limit it comes from: granted by the budget with `attempt.accepted` (the task's
 * `max_cost_usd` or the attempt's share of the daily halt), else `task.assign`'s `max_cost_usd`
 * (`assigned`, from a server that grants none).
 */
export interface CostCap {
  usd: number;
  of: AttemptCap["of"] | "assigned";
}

/**
 * Between SIGTERM and SIGKILL for a stop at the cap: a CLI that keeps calling its model after SIGTERM
 * (opencode did, for 5 s) spends money every second it is let live. Other stops keep the general grace.
 */
export const BUDGET_KILL_GRACE_MS = 1000;

/** Dollars as the log shows a cost or a cap: four decimals, so a cap of $0.0168 does not read as $0.02. */
export function dollars(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** "past the task's cap of $0.0168 (max_cost_usd)": the cap and which one it was. */
export function pastCap(cap: CostCap): string {
  switch (cap.of) {
    case "task":
      return `past the task's cap of ${dollars(cap.usd)} (max_cost_usd)`;
    case "daily_halt":
      return `past its share of the daily halt, ${dollars(cap.usd)}`;
    case "assigned":
      return `past its assigned cap of ${dollars(cap.usd)}`;
  }
}

/** The cost so far by the CLI's own figure, else from its tokens at the rate table's prices. */
export function costOfSpend(
  spend: SpendSoFar,
  model: string | undefined,
  format: ExecutorFormat,
  rates: RateTable,
): number | undefined {
  if (spend.costUsd !== undefined) return spend.costUsd;
  const family = familyOfFormat[format];
  return family === undefined || spend.usage.length === 0 ? undefined : rates.costOf(spend.usage, model, family);
}

export interface CostCapWatchInput {
  cap: CostCap;
  format: ExecutorFormat;
  /** The model the command names, for CLIs whose output does not. */
  model: string | undefined;
  rates: RateTable;
  /** The run went on past the cap: stop it, with this note. */
  onPast: (note: string) => void;
}

/** Watches one run's streamed cost against its cap. */
export class CostCapWatch {
  private tripped = false;

  constructor(private readonly input: CostCapWatchInput) {}

  /**
   * After each stdout line. A figure that may be the run's last (codex's turn end) waits for the CLI to
   * go on: stopping a run that is finishing would throw away work already paid for.
   */
  check(parser: OutputParser): void {
    if (this.tripped || parser.spent === undefined) return;
    const spend = parser.spent();
    if (spend.mayBeLast === true) return;
    const cost = costOfSpend(spend, this.input.model, this.input.format, this.input.rates);
    if (cost === undefined || cost <= this.input.cap.usd) return;
    this.tripped = true;
    this.input.onPast(`the attempt has cost ${dollars(cost)}, ${pastCap(this.input.cap)}; stopping it`);
  }

  /**
   * At the end: the note for a run whose final cost passed the cap without a stop at it (the cost came
   * only at the end, or with its last turn), else undefined. A run stopped for its cost, by the agent
   * or by the CLI itself (claude's `--max-budget-usd`), is `budget_exceeded` instead.
   */
  overCap(finalCostUsd: number | undefined, stoppedForCost: boolean): string | undefined {
    if (stoppedForCost || this.tripped || finalCostUsd === undefined || finalCostUsd <= this.input.cap.usd)
      return undefined;
    return `the CLI reported its cost ${dollars(finalCostUsd)} only at its end, ${pastCap(this.input.cap)}; the result is kept, the excess counts toward the daily halt`;
  }
}
