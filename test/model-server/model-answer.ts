// The one shape every provider's answer takes before the server writes it: a JSON body or a
// server-sent event stream (each CLI streams; a few side calls do not).

export type Answer = { kind: "json"; status: number; body: unknown } | { kind: "sse"; events: string[] };

/** One server-sent event: an optional `event:` name line and one `data:` line. */
export function sseEvent(data: unknown, name?: string): string {
  return `${name === undefined ? "" : `event: ${name}\n`}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** A 4xx the CLI prints: the provider's usual error object, the message naming what was refused. */
export function refusal(status: number, message: string): Answer {
  return { kind: "json", status, body: { error: { message, type: "invalid_request_error", code: status } } };
}

let counter = 0;
/** Ids unique within the process (the CLIs match tool results to calls by them). */
export function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}_mesh${counter}`;
}
