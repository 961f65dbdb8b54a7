/**
 * The event stream over fetch(): why not EventSource? EventSource hides the
 * HTTP status and headers of a failed connection. On a 401 it gives up for
 * good (readyState CLOSED, no way to learn why), so an expired token ends
 * real-time delivery until a reload; on a 429 or 503 it cannot honour
 * Retry-After; and it cannot send an Authorization header. fetch() with a
 * ReadableStream and SSEParser sees all of that, so the stream can refresh
 * its credentials, back off with jitter and wait as the server asks.
 */

import { errorOf, type API } from './api.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { SSEParser } from './sse.js';
import { HeraldError, type HeraldEvent } from './types.js';

/** Status changes of a Stream. */
export type StreamStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  | { state: 'waiting'; delayMs: number; error?: Error }
  | { state: 'closed' };

/** Options of a Stream. */
export interface StreamOptions {
  api: API;
  /** Open with a ticket (SPEC 2) when tokens are used; false sends the token as a header. Default true. */
  ticket?: boolean;
  /** The id to resume after; read when each attempt starts. */
  lastEventId: () => string | undefined;
  /** Every event, in order. Durable events carry their id. */
  onEvent: (e: HeraldEvent) => void;
  onStatus?: (s: StreamStatus) => void;
  backoff?: BackoffOptions;
  /** With no byte for this long the connection is presumed dead and replaced. Default 75 s (2.5 pings). */
  idleTimeoutMs?: number;
  /** Environment hooks; default the browser's (window online/offline, document visibility). */
  env?: StreamEnv;
}

/** StreamEnv is what a Stream needs from the page, replaceable in tests. */
export interface StreamEnv {
  online(): boolean;
  /** Subscribe to online and visible transitions; returns an unsubscribe. */
  onWake(cb: (why: 'online' | 'visible') => void): () => void;
  onOffline(cb: () => void): () => void;
}

/** browserEnv reads navigator.onLine and listens to window and document events. */
export function browserEnv(): StreamEnv {
  const w = typeof window !== 'undefined' ? window : undefined;
  const d = typeof document !== 'undefined' ? document : undefined;
  return {
    online: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
    onWake(cb) {
      const on = () => cb('online');
      const vis = () => d?.visibilityState === 'visible' && cb('visible');
      w?.addEventListener('online', on);
      d?.addEventListener('visibilitychange', vis);
      return () => {
        w?.removeEventListener('online', on);
        d?.removeEventListener('visibilitychange', vis);
      };
    },
    onOffline(cb) {
      w?.addEventListener('offline', cb);
      return () => w?.removeEventListener('offline', cb);
    },
  };
}

/**
 * Stream holds one SSE connection to Herald and keeps it up until close():
 * it reconnects with full-jitter exponential backoff, asks for fresh
 * credentials after a 401, waits at least Retry-After after a 429 or 503,
 * pauses while offline and retries at once when the network or the page
 * comes back. Each attempt resumes after lastEventId(). Not reusable after
 * close.
 */
export class Stream {
  private readonly o: StreamOptions;
  private readonly env: StreamEnv;
  private closed = false;
  private abort: AbortController | null = null;
  private wake: (() => void) | null = null;
  private serverRetry: number | undefined;
  private unsub: Array<() => void> = [];

  constructor(o: StreamOptions) {
    this.o = o;
    this.env = o.env ?? browserEnv();
  }

  /** start begins connecting; the returned promise settles after close(). */
  start(): Promise<void> {
    this.unsub.push(this.env.onWake(() => this.wake?.()));
    this.unsub.push(this.env.onOffline(() => this.abort?.abort()));
    return this.run();
  }

  /** close ends the connection and every retry. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort?.abort();
    this.wake?.();
    for (const u of this.unsub.splice(0)) u();
    this.o.onStatus?.({ state: 'closed' });
  }

  /** reconnectNow cuts a pending wait short (after a user action, for instance). */
  reconnectNow(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let forceRefresh = false;
    while (!this.closed) {
      if (!this.env.online()) {
        this.o.onStatus?.({ state: 'waiting', delayMs: Infinity, error: new Error('offline') });
        await this.sleep(Infinity);
        continue;
      }
      this.o.onStatus?.({ state: 'connecting', attempt });
      let delay: number;
      let error: Error | undefined;
      try {
        const opened = await this.connect(forceRefresh);
        forceRefresh = false;
        if (opened) attempt = 0;
        // The stream ended (server restart, drain, token expiry): come back
        // after the server's jittered retry, or a short backoff.
        delay = opened ? backoffDelay(0, { ...this.o.backoff, baseMs: this.serverRetry ?? this.o.backoff?.baseMs }) : backoffDelay(attempt, this.o.backoff);
      } catch (e) {
        if (this.closed) break;
        error = e instanceof Error ? e : new Error(String(e));
        const he = error instanceof HeraldError ? error : undefined;
        if (he?.status === 401) {
          // Fresh credentials at once the first time; backoff if they fail too.
          delay = forceRefresh ? backoffDelay(attempt, this.o.backoff) : 0;
          forceRefresh = true;
        } else {
          delay = backoffDelay(attempt, this.o.backoff);
          if (he?.retryAfterMs !== undefined) delay = Math.max(delay, he.retryAfterMs);
        }
      }
      if (this.closed) break;
      attempt++;
      this.o.onStatus?.({ state: 'waiting', delayMs: delay, error });
      await this.sleep(delay);
    }
  }

  /** connect makes one attempt; true when the stream opened (and has now ended). */
  private async connect(forceRefresh: boolean): Promise<boolean> {
    const { api } = this.o;
    const ac = new AbortController();
    this.abort = ac;
    const q = new URLSearchParams();
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (api.usesToken && this.o.ticket !== false) {
      if (forceRefresh) await api.currentToken(true);
      q.set('ticket', await api.ticket(ac.signal));
    } else {
      Object.assign(headers, await api.authHeaders(forceRefresh));
    }
    const last = this.o.lastEventId();
    if (last) q.set('lastEventId', last);
    const qs = q.toString();
    const res = await api.fetch(`${api.base}/api/notifications/sse${qs ? '?' + qs : ''}`, {
      headers,
      credentials: api.usesToken ? 'same-origin' : 'include',
      cache: 'no-store',
      signal: ac.signal,
    });
    if (!res.ok || !res.body) throw await errorOf(res);
    this.o.onStatus?.({ state: 'open' });
    await this.consume(res.body, ac, last ?? '');
    return true;
  }

  private async consume(body: ReadableStream<Uint8Array>, ac: AbortController, last: string): Promise<void> {
    const parser = new SSEParser(
      {
        onMessage: (m) => {
          let data: unknown = m.data;
          try {
            data = JSON.parse(m.data);
          } catch {
            // keep the text
          }
          this.o.onEvent(m.id !== undefined && m.id !== '' ? { event: m.event, data, id: m.id } : { event: m.event, data });
        },
        onRetry: (ms) => {
          this.serverRetry = ms;
        },
      },
      last,
    );
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const idle = this.o.idleTimeoutMs ?? 75_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ac.abort(), idle);
    };
    try {
      arm();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      if (!ac.signal.aborted) throw e;
    } finally {
      clearTimeout(timer);
      parser.end();
      reader.cancel().catch(() => {});
    }
  }

  /** sleep waits ms (Infinity: until woken), or less when woken or closed. */
  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      this.wake = done;
    });
  }
}
