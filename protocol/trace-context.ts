import { z } from "zod";

// W3C Trace Context (https://www.w3.org/TR/trace-context/) and the OTLP/HTTP JSON shape of spans
// (https://opentelemetry.io/docs/specs/otlp/): what the edge reads from `traceparent`, what the
// task room hands the trace room, what agents pass their CLI (docs/traces.md).

/** A trace id: 16 bytes as 32 lowercase hex digits, not all zero. */
export const TraceId = z
  .string()
  .regex(/^[0-9a-f]{32}$/)
  .refine((id) => !/^0+$/.test(id), "an all-zero trace id is invalid");
/** A span id: 8 bytes as 16 lowercase hex digits, not all zero. */
export const SpanId = z
  .string()
  .regex(/^[0-9a-f]{16}$/)
  .refine((id) => !/^0+$/.test(id), "an all-zero span id is invalid");

/** What a valid `traceparent` says: the caller's trace, and its span (the parent of ours). */
export type TraceParent = { traceId: string; parentSpanId: string; sampled: boolean };

const HEX = /^[0-9a-f]+$/;
const isHexOf = (text: string | undefined, length: number): text is string =>
  text !== undefined && text.length === length && HEX.test(text) && !/^0+$/.test(text);

/**
 * Reads a `traceparent` header; null when it is absent or invalid, which the spec says to treat as
 * no parent (a new trace starts). Version `ff` is invalid; version 00 is exactly four fields; a later
 * version is read by its first four fields (the spec's forward compatibility). Ids in uppercase or
 * all zero are invalid.
 */
export function parseTraceparent(header: string | null | undefined): TraceParent | null {
  if (header === null || header === undefined) return null;
  const value = header.trim();
  const [version, traceId, parentSpanId, flags, ...rest] = value.split("-");
  if (version === undefined || version.length !== 2 || !HEX.test(version) || version === "ff") return null;
  if (
    version === "00"
      ? value.length !== 55 || rest.length > 0
      : value.length < 55 || (value.length > 55 && value[55] !== "-")
  )
    return null;
  if (
    !isHexOf(traceId, 32) ||
    !isHexOf(parentSpanId, 16) ||
    flags === undefined ||
    flags.length !== 2 ||
    !HEX.test(flags)
  )
    return null;
  return { traceId, parentSpanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** The `traceparent` (version 00, sampled) that makes `spanId` of `traceId` the parent of whatever receives it. */
export function formatTraceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

/** A new random trace id (WebCrypto: workerd, Node and browsers all have it). */
export function newTraceId(): string {
  for (;;) {
    const id = [...crypto.getRandomValues(new Uint8Array(16))]
      .map((byte) => byte.toString(16).padStart(2, "0"))
      .join("");
    if (!/^0+$/.test(id)) return id;
  }
}

/**
 * Where spans go: `MESH_OTLP_URL` is the collector's base URL, as OpenTelemetry's
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is: the traces path `v1/traces` is appended to its path
 * (`http://collector:4318` → `http://collector:4318/v1/traces`). A URL that already ends in
 * `/v1/traces` is taken as it is, like `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (docs/traces.md).
 */
export function otlpTracesUrl(env: Record<string, unknown>): string | null {
  const value = typeof env.MESH_OTLP_URL === "string" ? env.MESH_OTLP_URL.trim() : "";
  if (value === "" || !URL.canParse(value)) return null;
  const url = new URL(value);
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (!/\/v1\/traces\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/traces`;
  return url.toString();
}

/** Why a set `MESH_OTLP_URL` cannot be used (one line), or null when it is unset or usable. */
export function otlpUrlProblem(value: string | undefined): string | null {
  if (value === undefined || value.trim() === "") return null;
  return otlpTracesUrl({ MESH_OTLP_URL: value }) === null
    ? `MESH_OTLP_URL=${value} is not an http(s) URL; give the collector's OTLP/HTTP base, e.g. http://127.0.0.1:4318`
    : null;
}

/** The roles of a task's spans (docs/traces.md "Spans"). */
export const SpanRole = z.enum(["task", "dispatch", "attempt", "acceptance", "escalation"]);
export type SpanRole = z.infer<typeof SpanRole>;

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

/**
 * A span's id, derived: FNV-1a (64 bits) of `<trace id>/<task id>/<role>/<attempt>` (attempt 0 for
 * the task's own span). The same task always gets the same ids, so an export sent twice names the
 * same spans, and the agent can be told its attempt's span id before the span exists. The task id is
 * in it because several tasks may share one trace (a plan created under one `traceparent`).
 */
export function spanIdOf(traceId: string, taskId: string, role: SpanRole, attempt: number): string {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(`${traceId}/${taskId}/${role}/${attempt}`))
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  // An all-zero span id is invalid; FNV-1a of these inputs being zero is astronomically unlikely, but not impossible.
  return hash === 0n ? "0000000000000001" : hash.toString(16).padStart(16, "0");
}

/** One OTLP attribute value: the JSON encoding carries 64-bit integers as strings. */
export const OtlpAnyValue = z.union([
  z.object({ stringValue: z.string() }).strict(),
  z.object({ intValue: z.string().regex(/^-?\d+$/) }).strict(),
  z.object({ doubleValue: z.number() }).strict(),
  z.object({ boolValue: z.boolean() }).strict(),
]);
export type OtlpAnyValue = z.infer<typeof OtlpAnyValue>;

export const OtlpAttribute = z.object({ key: z.string(), value: OtlpAnyValue });
export type OtlpAttribute = z.infer<typeof OtlpAttribute>;

/** OTLP span kinds are integers in JSON: 1 internal (all of the mesh's spans), 2 server, 3 client. */
export const SPAN_KIND_INTERNAL = 1;
/** OTLP status codes: 0 unset, 1 ok, 2 error. */
export const SpanStatusCode = { unset: 0, ok: 1, error: 2 } as const;

/** One span as OTLP/HTTP JSON carries it (times in ns since epoch, as decimal strings). */
export const OtlpSpan = z.object({
  traceId: TraceId,
  spanId: SpanId,
  parentSpanId: SpanId.optional(),
  name: z.string().max(200),
  kind: z.number().int().min(0).max(5),
  startTimeUnixNano: z.string().regex(/^\d+$/),
  endTimeUnixNano: z.string().regex(/^\d+$/),
  attributes: z.array(OtlpAttribute).max(64),
  status: z.object({ code: z.number().int().min(0).max(2), message: z.string().max(500).optional() }),
});
export type OtlpSpan = z.infer<typeof OtlpSpan>;

/** Spans one task room hands the trace room at once (a task has a few per attempt). */
export const MAX_SPANS_PER_EXPORT = 512;

/** Task room → trace room: queue these spans for the collector. */
export const SpansExport = z.object({
  type: z.literal("spans.export"),
  spans: z.array(OtlpSpan).max(MAX_SPANS_PER_EXPORT),
});
export type SpansExport = z.infer<typeof SpansExport>;

/** `GET /api/traces`: where spans go and what became of them since the server started. */
export const TraceExportStatus = z.object({
  /** The OTLP/HTTP traces URL spans are sent to; null when MESH_OTLP_URL is not set. */
  endpoint: z.string().nullable(),
  /** Spans waiting to be sent now (at most `queue_cap`). */
  queued: z.number().int().nonnegative(),
  queue_cap: z.number().int().positive(),
  /** Spans the collector accepted (a 2xx answer). */
  exported_total: z.number().int().nonnegative(),
  /** Spans given up: the queue was full, or the collector refused, failed or did not answer in time. */
  dropped_total: z.number().int().nonnegative(),
  /** The last failure to export, when there was one. */
  last_error: z.object({ at: z.number(), message: z.string() }).optional(),
});
export type TraceExportStatus = z.infer<typeof TraceExportStatus>;
