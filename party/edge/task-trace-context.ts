import { newTraceId, parseTraceparent, type TaskCreate } from "../../protocol/index.ts";

/**
 * A new task's trace (docs/traces.md): the creating request's `traceparent`, when valid, gives its
 * trace id and the parent of the task's span; otherwise (absent or invalid, as the W3C spec says) a
 * new trace starts. The sampled flag is not consulted: the mesh records every task's spans.
 */
export function traceOfRequest(header: string | null | undefined): Pick<TaskCreate, "trace_id" | "trace_parent"> {
  const caller = parseTraceparent(header);
  return caller === null ? { trace_id: newTraceId() } : { trace_id: caller.traceId, trace_parent: caller.parentSpanId };
}
