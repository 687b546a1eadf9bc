import type { OtlpSpan } from "../../protocol/index.ts";

/** The resource and scope every span of the mesh is reported under. */
export const SERVICE_NAME = "agent-mesh";

/** OTLP/HTTP JSON's request body (ExportTraceServiceRequest): one resource, one scope. */
export function exportRequestBody(spans: readonly OtlpSpan[]): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: SERVICE_NAME } }] },
        scopeSpans: [{ scope: { name: SERVICE_NAME }, spans }],
      },
    ],
  };
}

/**
 * POSTs one batch to the collector; null when it answered 2xx, else why not (one line). Never
 * throws, and gives up after `timeoutMs` (OpenTelemetry's exporter default is 10 s).
 */
export async function sendSpans(url: string, spans: readonly OtlpSpan[], timeoutMs: number): Promise<string | null> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(exportRequestBody(spans)),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is read (and dropped) so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? null : `the collector answered ${response.status}`;
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (name === "TimeoutError" || name === "AbortError") return `the collector did not answer within ${timeoutMs} ms`;
    return `the collector could not be reached: ${error instanceof Error ? error.message : String(error)}`;
  }
}
