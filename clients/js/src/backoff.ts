/** Reconnection delays: exponential backoff with full jitter, and Retry-After. */

/** Backoff tunes reconnection delays. */
export interface BackoffOptions {
  /** Delay ceiling of the first retry, in ms. Default 1000. */
  baseMs?: number;
  /** Largest delay ceiling, in ms. Default 30000. */
  maxMs?: number;
  /** A uniform random number in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * backoffDelay returns the delay before retry number attempt (0 for the first
 * retry): a uniform random value in [0, min(maxMs, baseMs * 2^attempt)] —
 * "full jitter", which spreads a crowd of clients that lost the same server
 * over the whole window instead of bunching them at its edges.
 */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? 1000;
  const max = o.maxMs ?? 30000;
  const random = o.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}

/**
 * parseRetryAfter reads a Retry-After header (delay seconds or an HTTP date)
 * into milliseconds from now; undefined when absent or malformed.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * retryDelay is the wait before the next attempt: the backoff for attempt,
 * but never less than what the server asked for with Retry-After.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, o: BackoffOptions = {}): number {
  const d = backoffDelay(attempt, o);
  return retryAfterMs === undefined ? d : Math.max(d, retryAfterMs);
}
