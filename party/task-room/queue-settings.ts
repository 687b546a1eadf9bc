/** The default queue timeout in seconds (`MESH_QUEUE_TIMEOUT_S`, 600; docs/settings.md). */
export const DEFAULT_QUEUE_TIMEOUT_S = 600;

/** `MESH_QUEUE_TIMEOUT_S` from the server's settings; a missing or bad value means the default. */
export function queueTimeoutFrom(env: Record<string, unknown>): number {
  const seconds = Number(env.MESH_QUEUE_TIMEOUT_S ?? DEFAULT_QUEUE_TIMEOUT_S);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_QUEUE_TIMEOUT_S;
}
