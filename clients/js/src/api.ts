/** The inbox and ticket calls of the Herald API (SPEC 2 and 4). */

import { parseRetryAfter } from './backoff.js';
import { HeraldError, type InboxPage } from './types.js';

/**
 * TokenSource returns a subscriber token. forceRefresh is true after Herald
 * refused the previous one (expired or revoked): return a fresh one, not a
 * cached copy. Return null to use the herald_token cookie (or a next-auth
 * session cookie) instead.
 */
export type TokenSource = (opts: { forceRefresh: boolean }) => Promise<string | null> | string | null;

/** Options of an API. */
export interface APIOptions {
  /** Herald's base URL, "" (the default) for the page's own origin. */
  url?: string;
  /** Where tokens come from; without it requests carry cookies only. */
  getToken?: TokenSource;
  /** fetch to use; default globalThis.fetch. */
  fetch?: typeof fetch;
}

/**
 * API calls Herald with the current token and, on a 401, asks the token
 * source once for a fresh token and retries. Safe to share; it holds only a
 * cached token.
 */
export class API {
  readonly base: string;
  private readonly getToken?: TokenSource;
  private readonly fetchFn: typeof fetch;
  private token: string | null = null;
  private tokenExp = 0;
  private pending: Promise<string | null> | null = null;

  constructor(o: APIOptions = {}) {
    this.base = (o.url ?? '').replace(/\/+$/, '');
    this.getToken = o.getToken;
    this.fetchFn = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Whether requests authenticate with a token (else with cookies). */
  get usesToken(): boolean {
    return this.getToken !== undefined;
  }

  /**
   * token returns the cached token, or a new one when forced, when there is
   * none, or when a JWT's exp is less than 10 s away. Concurrent callers
   * share one fetch.
   */
  async currentToken(forceRefresh = false): Promise<string | null> {
    if (!this.getToken) return null;
    const fresh = this.token !== null && (this.tokenExp === 0 || this.tokenExp - 10_000 > Date.now());
    if (!forceRefresh && fresh) return this.token;
    if (!this.pending) {
      const get = this.getToken;
      this.pending = (async () => {
        try {
          const t = await get({ forceRefresh: forceRefresh || this.token !== null });
          this.token = t;
          this.tokenExp = t ? jwtExpiry(t) : 0;
          return t;
        } finally {
          this.pending = null;
        }
      })();
    }
    return this.pending;
  }

  /** request sends an API call and returns its JSON body (undefined for 204). */
  async request<T>(method: string, path: string, init: { signal?: AbortSignal } = {}): Promise<T> {
    let res = await this.send(method, path, false, init.signal);
    if (res.status === 401 && this.usesToken) {
      await res.body?.cancel();
      res = await this.send(method, path, true, init.signal);
    }
    if (!res.ok) throw await errorOf(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** authHeaders returns the Authorization header for a token, if any. */
  async authHeaders(forceRefresh: boolean): Promise<Record<string, string>> {
    const t = await this.currentToken(forceRefresh);
    return t ? { Authorization: `Bearer ${t}` } : {};
  }

  private async send(method: string, path: string, forceRefresh: boolean, signal?: AbortSignal): Promise<Response> {
    return this.fetchFn(this.base + path, {
      method,
      headers: { Accept: 'application/json', ...(await this.authHeaders(forceRefresh)) },
      credentials: this.usesToken ? 'same-origin' : 'include',
      cache: 'no-store',
      signal,
    });
  }

  /** fetch exposes the configured fetch (for the stream). */
  fetch(input: string, init: RequestInit): Promise<Response> {
    return this.fetchFn(input, init);
  }

  list(q: { limit?: number; cursor?: string | null; unread?: boolean } = {}): Promise<InboxPage> {
    const p = new URLSearchParams();
    if (q.limit) p.set('limit', String(q.limit));
    if (q.cursor) p.set('cursor', q.cursor);
    if (q.unread) p.set('unread', 'true');
    const qs = p.toString();
    return this.request('GET', '/api/notifications' + (qs ? '?' + qs : ''));
  }

  async unreadCount(): Promise<number> {
    return (await this.request<{ count: number }>('GET', '/api/notifications/unread-count')).count;
  }

  markRead(id: string): Promise<void> {
    return this.request('POST', `/api/notifications/${encodeURIComponent(id)}/read`);
  }

  async markAllRead(): Promise<number> {
    return (await this.request<{ updated: number }>('POST', '/api/notifications/read-all')).updated;
  }

  remove(id: string): Promise<void> {
    return this.request('DELETE', `/api/notifications/${encodeURIComponent(id)}`);
  }

  /** ticket obtains a single-use stream ticket (valid for at most 60 s). */
  async ticket(signal?: AbortSignal): Promise<string> {
    return (await this.request<{ ticket: string }>('POST', '/api/notifications/sse/ticket', { signal })).ticket;
  }
}

/** errorOf turns a non-2xx response into a HeraldError. */
export async function errorOf(res: Response): Promise<HeraldError> {
  let code = 'http_' + res.status;
  let message = res.statusText || 'request failed';
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body?.error?.code) code = body.error.code;
    if (body?.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status
  }
  return new HeraldError(res.status, code, message, parseRetryAfter(res.headers.get('Retry-After')));
}

/** jwtExpiry returns a JWT's exp in ms, 0 when the token is not a readable JWT. */
export function jwtExpiry(token: string): number {
  const part = token.split('.')[1];
  if (!part) return 0;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}
