// The bench's one table: each row a figure, its goal, and a verdict. A row fails its goal by any
// margin; it "collapses" when more than COLLAPSE_FACTOR off, or when it lost or repeated a line, or
// could not be measured. Only collapses make the bench exit non-zero: the machines are shared and
// noisy, so CI catches a collapse, not a wobble.

/** One number checked against its goal. */
export type Check = { value: number; goal: number; direction: "at-most" | "at-least" };

export type Row = {
  name: string;
  figure: string;
  /** The goal as printed; "—" for a row that only informs. */
  goal: string;
  checks: Check[];
  /** A row that reports against its goal but never collapses the run (the worktree row: "report what you measure"). */
  reportOnly?: boolean;
  /** Lines lost or repeated on the way to the viewers: always a failure. */
  integrity?: { lost: number; duplicated: number };
  /** The row could not be measured. */
  error?: string;
};

export const COLLAPSE_FACTOR = 5;

export type Verdict = "pass" | "fail" | "collapse" | "info";

function offBy(check: Check): number {
  if (check.direction === "at-most") return check.value / check.goal;
  return check.value <= 0 ? Number.POSITIVE_INFINITY : check.goal / check.value;
}

export function verdictOf(row: Row): Verdict {
  if (row.error !== undefined) return "collapse";
  if (row.integrity !== undefined && row.integrity.lost + row.integrity.duplicated > 0) return "collapse";
  if (row.checks.length === 0) return "info";
  // NaN (no sample) counts as off by any factor.
  if (row.checks.some((check) => !(offBy(check) <= COLLAPSE_FACTOR)) && row.reportOnly !== true) return "collapse";
  return row.checks.every((check) => offBy(check) <= 1) ? "pass" : "fail";
}

const WORDS: Record<Verdict, string> = {
  pass: "pass",
  fail: "fail",
  collapse: `FAIL (collapse: >${COLLAPSE_FACTOR}× off, lost/duplicated lines, or not measured)`,
  info: "—",
};

const cell = (text: string): string => text.replaceAll("|", "\\|").replaceAll("\n", " ");

/** The markdown table. */
export function renderTable(rows: readonly Row[]): string {
  const lines = ["| row | figure | goal | result |", "|---|---|---|---|"];
  for (const row of rows) {
    const figure = row.error === undefined ? row.figure : `not measured: ${row.error}`;
    lines.push(`| ${cell(row.name)} | ${cell(figure)} | ${cell(row.goal)} | ${WORDS[verdictOf(row)]} |`);
  }
  return lines.join("\n");
}

/** Whether the bench should exit non-zero. */
export function anyCollapse(rows: readonly Row[]): boolean {
  return rows.some((row) => verdictOf(row) === "collapse");
}

/** A number for a table cell: thousands separated, `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
