import { describe, expect, it } from 'vitest';
import { Herald } from '../src/client';
import { LockElector } from '../src/leader';
import { FakeBus, FakeLocks } from './fakes';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A fake Herald server: streams are kept so the test can push events into them. */
function fakeServer() {
  const streams: Array<{ url: string; push(s: string): void; closed: boolean }> = [];
  const fetch = (async (input: string, init: RequestInit) => {
    const url = String(input);
    if (url.includes('/api/notifications/sse')) {
      let ctrl!: ReadableStreamDefaultController<Uint8Array>;
      const entry = { url, closed: false, push: (s: string) => ctrl.enqueue(new TextEncoder().encode(s)) };
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
      init.signal?.addEventListener('abort', () => {
        entry.closed = true;
        ctrl.error(new DOMException('aborted', 'AbortError'));
      });
      streams.push(entry);
      queueMicrotask(() => entry.push('event: connected\ndata: {"userId":"u1","clientId":"c"}\n\n'));
      return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    }
    return new Response('{}', { status: 404 });
  }) as typeof globalThis.fetch;
  return { streams, fetch, open: () => streams.filter((s) => !s.closed) };
}

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}

describe('Herald across tabs', () => {
  it('holds one stream for all tabs, relays events, and hands over without a gap', async () => {
    const server = fakeServer();
    const locks = new FakeLocks();
    const bus = new FakeBus();
    const storage = memoryStorage();
    const env = { online: () => true, onWake: () => () => {}, onOffline: () => () => {} };
    const tabs = [0, 1, 2].map(() =>
      new Herald({
        url: 'http://h',
        fetch: server.fetch,
        inbox: false,
        elector: new LockElector(locks, 'herald'),
        channel: bus.channel(),
        storage,
        env,
      }).start(),
    );
    const seen = tabs.map(() => [] as string[]);
    tabs.forEach((t, i) => t.onNotification((n) => seen[i].push(n.id)));
    await tick();
    expect(server.open()).toHaveLength(1);
    expect(tabs.map((t) => t.connected)).toEqual([true, true, true]);

    server.open()[0].push('id: 1\nevent: notification\ndata: {"id":"n1","type":"t","title":"x","createdAt":"2025-01-01T00:00:00Z","readAt":null}\n\n');
    await tick();
    expect(seen).toEqual([['n1'], ['n1'], ['n1']]);
    expect(tabs.map((t) => t.inbox.getSnapshot().unreadCount)).toEqual([1, 1, 1]);
    expect(JSON.parse(storage.m.get('herald:cursor:http://h')!)).toEqual({ id: '1', user: 'u1' });

    server.open()[0].push('id: 2\nevent: notification.read\ndata: {"ids":["n1"]}\n\n');
    await tick();
    expect(tabs.map((t) => t.inbox.getSnapshot().unreadCount)).toEqual([0, 0, 0]);

    tabs[0].close(); // the leader tab goes away
    await tick();
    expect(server.open()).toHaveLength(1);
    expect(server.streams).toHaveLength(2);
    expect(server.streams[1].url).toContain('lastEventId=2');
    expect(tabs.slice(1).map((t) => t.connected)).toEqual([true, true]);
    server.open()[0].push('id: 3\nevent: notification\ndata: {"id":"n2","type":"t","title":"y","createdAt":"2025-01-01T00:00:01Z","readAt":null}\n\n');
    await tick();
    expect(seen.slice(1)).toEqual([['n1', 'n2'], ['n1', 'n2']]);
    tabs.forEach((t) => t.close());
    expect(server.open()).toHaveLength(0);
  });

  it('resumes after a reload from the remembered id, and refetches on reset', async () => {
    const server = fakeServer();
    const storage = memoryStorage();
    storage.setItem('herald:cursor:http://h', JSON.stringify({ id: '77', user: 'u1' }));
    const env = { online: () => true, onWake: () => () => {}, onOffline: () => () => {} };
    const h = new Herald({ url: 'http://h', fetch: server.fetch, inbox: false, shareConnection: false, storage, env }).start();
    await tick();
    expect(server.streams[0].url).toContain('lastEventId=77');
    server.open()[0].push('event: reset\ndata: {"reason":"too old"}\n\n');
    await tick();
    expect(h.lastEventId).toBeUndefined();
    expect(storage.m.has('herald:cursor:http://h')).toBe(false);
    h.close();
  });
});
