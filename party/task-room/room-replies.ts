import type { LogLine, Result, TaskRecord } from "../../protocol/index.ts";
import { errorResponse, json } from "../http/responses.ts";

// How the task room answers: a request with the actor's reply, the log with a `[mesh]` line.

export function reply(result: Result<TaskRecord> | undefined, status = 200): Response {
  if (result === undefined) return errorResponse("internal", "the task room reached no decision; try again");
  return result.ok ? json(result.value, status) : errorResponse(result.error.code, result.error.message);
}

export function systemLine(attempt: number, text: string): Omit<LogLine, "seq"> {
  return { stream: "system", text: text.slice(0, 4096), ts: Date.now(), attempt };
}
