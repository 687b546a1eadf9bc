/**
 * Request limits per credential (docs/http-api.md: 429 with `Retry-After`; docs/settings.md). A
 * token bucket per credential name: `MESH_RATE_PER_S` requests a second on average
 * (default 100), bursts of up to `MESH_RATE_BURST` (default 500), and at most `MESH_LONG_POLLS_MAX`
 * (default 20) waits open at once. Kept in the worker's memory: exact under `partykit dev` (one
 * isolate); on Cloudflare each isolate counts on its own, so the limit there is per isolate.
 */
export type RequestLimits = { perSecond: number; burst: number; longPolls: number };

export function requestLimitsFrom(env: Record<string, unknown>): RequestLimits {
  const positive = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    perSecond: positive("MESH_RATE_PER_S", 100),
    burst: positive("MESH_RATE_BURST", 500),
    longPolls: positive("MESH_LONG_POLLS_MAX", 20),
  };
}

/** Most credentials tracked at once; the least recently seen go first (a flood of made-up names cannot grow it). */
const MAX_TRACKED = 10_000;

type Bucket = { tokens: number; at: number };

const buckets = new Map<string, Bucket>();
const openPolls = new Map<string, number>();

/** Takes one request from `credential`'s bucket: null when admitted, else the seconds until one would be. */
export function admitRequest(credential: string, now: number, limits: RequestLimits): number | null {
  const bucket = buckets.get(credential) ?? { tokens: limits.burst, at: now };
  buckets.delete(credential);
  bucket.tokens = Math.min(limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * limits.perSecond);
  bucket.at = now;
  buckets.set(credential, bucket);
  if (buckets.size > MAX_TRACKED) buckets.delete(buckets.keys().next().value ?? "");
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return null;
  }
  return Math.max(1, Math.ceil((1 - bucket.tokens) / limits.perSecond));
}

/** Opens one long poll for `credential`; the release to call when it ends, or null when too many are open. */
export function openLongPoll(credential: string, limits: RequestLimits): (() => void) | null {
  const open = openPolls.get(credential) ?? 0;
  if (open >= limits.longPolls) return null;
  openPolls.set(credential, open + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const now = (openPolls.get(credential) ?? 1) - 1;
    if (now <= 0) openPolls.delete(credential);
    else openPolls.set(credential, now);
  };
}
