// `text`: a CLI whose stdout is meant for people (the demo CLI, `claude -p` in text mode, aider).
// Every line is shown as it is; there is no final event, so success is the exit code's to say, and
// the output is the tail of stdout. No tokens, cost or session can be read from it.
import { LineTail } from "../line-tail.ts";
import type { OutputParser } from "./run-report.ts";

export function plainText(): OutputParser {
  const tail = new LineTail(100);
  return {
    stdout(line) {
      tail.push(line);
      return [line];
    },
    stderr() {},
    end() {
      const output = tail.text();
      return {
        lines: [],
        report: { finished: true, success: true, usage: [], result: output === "" ? undefined : output },
      };
    },
  };
}
