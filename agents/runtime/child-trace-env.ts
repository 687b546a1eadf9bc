import { type ExecutorSpec, parseTraceparent } from "../../protocol/index.ts";

/**
 * The executor with `TRACEPARENT` in its environment (docs/traces.md): the W3C trace context naming
 * the attempt's span, so a CLI that traces (or any child it starts) joins the task's trace. An
 * absent or malformed one (an older or damaged mesh) changes nothing.
 */
export function withTraceparent(executor: ExecutorSpec, traceparent: string | undefined): ExecutorSpec {
  if (parseTraceparent(traceparent) === null || traceparent === undefined) return executor;
  return { ...executor, env: { ...executor.env, TRACEPARENT: traceparent } };
}
