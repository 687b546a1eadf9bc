/** Where the agent writes its short human status lines. */
export type AgentLog = (line: string) => void;

/** Status lines go to stderr, stamped with the local time, so stdout stays free for tools. */
export const stderrLog: AgentLog = (line) => {
  const time = new Date().toTimeString().slice(0, 8);
  process.stderr.write(`${time} ${line}\n`);
};

/** "1.2s", "45ms": durations as people read them in the log. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
