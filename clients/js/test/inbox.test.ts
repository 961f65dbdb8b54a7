import { describe, expect, it, vi } from 'vitest';
import { API } from '../src/api';
import { eventAction, Inbox, inboxReducer, initialInbox, type InboxState } from '../src/inbox';
import type { Notification } from '../src/types';

const n = (id: string, createdAt: string, readAt: string | null = null): Notification => ({
  id,
  type: 't',
  title: id,
  createdAt,
  readAt,
});

const loaded = (list: Notification[], unreadCount: number, nextCursor: string | null = null): InboxState =>
  inboxReducer(initialInbox, { type: 'page', page: { notifications: list, nextCursor }, append: false, unreadCount });

describe('inboxReducer', () => {
  it('keeps newest first without duplicates across pages and live events', () => {
    let s = loaded([n('c', '2025-01-03T00:00:00Z'), n('b', '2025-01-02T00:00:00Z')], 2, 'cur');
    s = inboxReducer(s, { type: 'page', page: { notifications: [n('b', '2025-01-02T00:00:00Z'), n('a', '2025-01-01T00:00:00Z')], nextCursor: null }, append: true });
    expect(s.notifications.map((x) => x.id)).toEqual(['c', 'b', 'a']);
    expect(s.nextCursor).toBeNull();
    s = inboxReducer(s, { type: 'received', notification: n('d', '2025-01-04T00:00:00Z') });
    expect(s.notifications.map((x) => x.id)).toEqual(['d', 'c', 'b', 'a']);
    expect(s.unreadCount).toBe(3);
    // a replayed duplicate changes nothing that matters
    s = inboxReducer(s, { type: 'received', notification: n('d', '2025-01-04T00:00:00Z') });
    expect(s.notifications).toHaveLength(4);
    expect(s.unreadCount).toBe(3);
  });

  it('applies read, deleted and counts idempotently', () => {
    let s = loaded([n('b', '2025-01-02T00:00:00Z'), n('a', '2025-01-01T00:00:00Z')], 5);
    const read = eventAction({ event: 'notification.read', data: { ids: ['a'] }, id: '1' }, () => 'T')!;
    s = inboxReducer(s, read);
    expect(s.unreadCount).toBe(4);
    expect(s.notifications[1].readAt).toBe('T');
    expect(inboxReducer(s, read)).toBe(s); // second time: nothing
    s = inboxReducer(s, eventAction({ event: 'notification.deleted', data: { ids: ['b', 'zz'] } })!);
    expect(s.notifications.map((x) => x.id)).toEqual(['a']);
    expect(s.unreadCount).toBe(3);
    s = inboxReducer(s, eventAction({ event: 'unread-count', data: { count: 7 } })!);
    expect(s.unreadCount).toBe(7);
    s = inboxReducer(s, eventAction({ event: 'notification.read', data: { all: true } })!);
    expect(s.unreadCount).toBe(0);
    expect(eventAction({ event: 'connected', data: {} })).toBeUndefined();
    expect(eventAction({ event: 'notification', data: 'junk' })).toBeUndefined();
  });

  it('keeps a local read when the same notification arrives again unread', () => {
    let s = loaded([n('a', '2025-01-01T00:00:00Z', 'R')], 0);
    s = inboxReducer(s, { type: 'received', notification: n('a', '2025-01-01T00:00:00Z') });
    expect(s.notifications[0].readAt).toBe('R');
    expect(s.unreadCount).toBe(0);
  });
});

function fakeAPI(handler: (method: string, path: string) => Response | Promise<Response>) {
  const calls: string[] = [];
  const api = new API({
    url: 'http://h',
    getToken: () => 'tok',
    fetch: (async (input: string, init: RequestInit) => {
      calls.push(`${init.method} ${input}`);
      return handler(init.method!, String(input).slice('http://h'.length));
    }) as typeof fetch,
  });
  return { api, calls };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('Inbox', () => {
  it('loads, pages and marks read optimistically', async () => {
    let fail = false;
    let gone = false;
    const { api } = fakeAPI((method, path) => {
      if (path.startsWith('/api/notifications?limit=2&cursor=c1')) return json({ notifications: [n('a', '2025-01-01T00:00:00Z')], nextCursor: null });
      if (path.startsWith('/api/notifications?')) return json({ notifications: [n('c', '2025-01-03T00:00:00Z'), n('b', '2025-01-02T00:00:00Z')], nextCursor: 'c1' });
      if (path === '/api/notifications/unread-count') return json({ count: 3 });
      if (gone && (method === 'DELETE' || path.endsWith('/read'))) return json({ error: { code: 'not_found', message: 'no' } }, 404);
      if (method === 'POST' && path.endsWith('/read')) return fail ? json({ error: { code: 'internal', message: 'x' } }, 500) : new Response(null, { status: 204 });
      if (method === 'DELETE') return fail ? json({ error: { code: 'internal', message: 'x' } }, 500) : new Response(null, { status: 204 });
      return json({}, 404);
    });
    const inbox = new Inbox(api, 2);
    const seen = vi.fn();
    inbox.subscribe(seen);
    await inbox.refresh();
    expect(inbox.getSnapshot().notifications.map((x) => x.id)).toEqual(['c', 'b']);
    expect(inbox.getSnapshot().unreadCount).toBe(3);
    await inbox.loadMore();
    expect(inbox.getSnapshot().notifications.map((x) => x.id)).toEqual(['c', 'b', 'a']);

    const p = inbox.markRead('b');
    expect(inbox.getSnapshot().unreadCount).toBe(2); // before the server answered
    await p;
    fail = true;
    await expect(inbox.markRead('c')).rejects.toThrow('x');
    expect(inbox.getSnapshot().unreadCount).toBe(2); // rolled back
    expect(inbox.getSnapshot().notifications[0].readAt).toBeNull();
    await expect(inbox.remove('a')).rejects.toThrow();
    expect(inbox.getSnapshot().notifications.map((x) => x.id)).toEqual(['c', 'b', 'a']);
    gone = true; // deleted on another device: 404 means done, not failed
    await inbox.remove('a');
    expect(inbox.getSnapshot().notifications.map((x) => x.id)).toEqual(['c', 'b']);
    await inbox.markRead('c');
    expect(inbox.getSnapshot().notifications.map((x) => x.id)).toEqual(['b']);
    expect(seen).toHaveBeenCalled();
  });
});
