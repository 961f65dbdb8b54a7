import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API } from '../src/api';
import { Stream, type StreamEnv, type StreamStatus } from '../src/stream';
import type { HeraldEvent } from '../src/types';

/**
 * sseBody returns a response body that sends text, then stays open until
 * ended, or errors when signal aborts (as fetch's body does).
 */
function sseBody(text: string, signal?: AbortSignal | null) {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
      c.enqueue(new TextEncoder().encode(text));
    },
  });
  signal?.addEventListener('abort', () => {
    try {
      ctrl.error(new DOMException('aborted', 'AbortError'));
    } catch {
      // already closed
    }
  });
  return { body, end: () => ctrl.close() };
}

const sse = (body: ReadableStream<Uint8Array>) => new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
const err = (status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code: 'x', message: 'refused' } }), { status, headers });

function testEnv() {
  let online = true;
  const wakes = new Set<(why: 'online' | 'visible') => void>();
  const offs = new Set<() => void>();
  const env: StreamEnv = {
    online: () => online,
    onWake: (cb) => (wakes.add(cb), () => wakes.delete(cb)),
    onOffline: (cb) => (offs.add(cb), () => offs.delete(cb)),
  };
  return {
    env,
    goOffline() {
      online = false;
      offs.forEach((f) => f());
    },
    goOnline() {
      online = true;
      wakes.forEach((f) => f('online'));
    },
  };
}

describe('Stream', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('refreshes the token after a 401, honours Retry-After, resumes after the last id', async () => {
    const requests: string[] = [];
    const tokens: boolean[] = [];
    let n = 0;
    const streams: Array<{ end(): void }> = [];
    const api = new API({
      url: 'http://h',
      getToken: ({ forceRefresh }) => (tokens.push(forceRefresh), `tok${tokens.length}`),
      fetch: (async (input: string, init: RequestInit) => {
        const url = String(input);
        const auth = (init.headers as Record<string, string>).Authorization ?? '';
        requests.push(`${init.method ?? 'GET'} ${url.replace('http://h', '')} ${auth}`);
        if (url.endsWith('/sse/ticket')) {
          return auth === 'Bearer tok1' ? err(401) : new Response(JSON.stringify({ ticket: `t${++n}` }), { status: 200 });
        }
        if (n === 1) return err(429, { 'Retry-After': '5' });
        const s = sseBody(
          n === 2
            ? 'retry: 100\nevent: connected\ndata: {"userId":"u"}\n\nid: 41\nevent: notification\ndata: {"id":"a"}\n\n'
            : 'event: connected\ndata: {}\n\nid: 42\nevent: notification\ndata: {"id":"b"}\n\n',
          init.signal,
        );
        streams.push(s);
        return sse(s.body);
      }) as typeof fetch,
    });
    const events: HeraldEvent[] = [];
    const statuses: StreamStatus[] = [];
    let last: string | undefined = '40';
    const t = testEnv();
    const s = new Stream({
      api,
      lastEventId: () => last,
      onEvent: (e) => {
        events.push(e);
        if (e.id) last = e.id;
      },
      onStatus: (st) => statuses.push(st),
      backoff: { random: () => 0.5 },
      env: t.env,
    });
    const done = s.start();
    await vi.advanceTimersByTimeAsync(0);
    // tok1 refused, tok2 fetched at once (forced), ticket t1 answered 429
    expect(tokens).toEqual([false, true]);
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting', delayMs: 5000 });
    await vi.advanceTimersByTimeAsync(4999);
    expect(requests.filter((r) => r.includes('/sse?'))).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests.filter((r) => r.includes('/sse?')).at(-1)).toContain('ticket=t2&lastEventId=40');
    expect(events.map((e) => e.id)).toEqual([undefined, '41']);
    expect(events[1].data).toEqual({ id: 'a' });
    expect(statuses.at(-1)).toEqual({ state: 'open' });

    streams[0].end(); // the server went away
    await vi.advanceTimersByTimeAsync(0);
    expect(statuses.at(-1)).toMatchObject({ state: 'waiting', delayMs: 50 }); // server retry 100, jittered
    await vi.advanceTimersByTimeAsync(50);
    expect(requests.filter((r) => r.includes('/sse?')).at(-1)).toContain('ticket=t3&lastEventId=41');
    expect(events.map((e) => e.id)).toEqual([undefined, '41', undefined, '42']);

    s.close();
    await done;
    expect(statuses.at(-1)).toEqual({ state: 'closed' });
  });

  it('waits while offline and reconnects at once when back online', async () => {
    let calls = 0;
    const api = new API({
      url: 'http://h',
      fetch: (async (_i: string, init: RequestInit) => {
        calls++;
        return sse(sseBody('event: connected\ndata: {}\n\n', init.signal).body);
      }) as typeof fetch,
    });
    const t = testEnv();
    const statuses: string[] = [];
    const s = new Stream({ api, lastEventId: () => undefined, onEvent: () => {}, onStatus: (st) => statuses.push(st.state), env: t.env });
    const done = s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    t.goOffline();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    expect(statuses.at(-1)).toBe('waiting');
    t.goOnline();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    s.close();
    await done;
  });

  it('replaces a connection that went silent', async () => {
    let calls = 0;
    const api = new API({
      url: 'http://h',
      fetch: (async (_i: string, init: RequestInit) => {
        calls++;
        return sse(sseBody('event: connected\ndata: {}\n\n', init.signal).body);
      }) as typeof fetch,
    });
    const s = new Stream({ api, lastEventId: () => undefined, onEvent: () => {}, idleTimeoutMs: 1000, backoff: { random: () => 0 }, env: testEnv().env });
    const done = s.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(calls).toBe(2);
    s.close();
    await done;
  });
});
