/**
 * The inbox: a reducer over the notifications a tab shows, and Inbox, the
 * store that feeds it from the API and the stream. Optimistic changes are
 * applied at once and reconciled by the server's own events: they carry the
 * same change, which the reducer applies idempotently, and unread-count
 * events carry the server's count, which always wins.
 */

import { type API } from './api.js';
import { HeraldError, type HeraldEvent, type InboxPage, type Notification, type ReadChange } from './types.js';

/** InboxState is an immutable snapshot; each change makes a new one. */
export interface InboxState {
  /** Newest first, no duplicate ids. */
  notifications: readonly Notification[];
  unreadCount: number;
  /** Cursor of the next page; null when the last page is loaded. */
  nextCursor: string | null;
  /** A page is being fetched. */
  loading: boolean;
  /** The first page has arrived. */
  loaded: boolean;
  error: Error | null;
}

export const initialInbox: InboxState = {
  notifications: [],
  unreadCount: 0,
  nextCursor: null,
  loading: false,
  loaded: false,
  error: null,
};

/** Actions of the reducer. */
export type InboxAction =
  | { type: 'loading' }
  | { type: 'page'; page: InboxPage; append: boolean; unreadCount?: number }
  | { type: 'failed'; error: Error }
  | { type: 'received'; notification: Notification }
  | { type: 'read'; change: ReadChange; at: string }
  | { type: 'unread'; notifications: Notification[] } // undo of an optimistic read
  | { type: 'deleted'; ids: string[] }
  | { type: 'restored'; notification: Notification } // undo of an optimistic delete
  | { type: 'count'; count: number };

function newer(a: Notification, b: Notification): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function insert(list: readonly Notification[], n: Notification): Notification[] {
  const out = list.filter((x) => x.id !== n.id);
  let i = 0;
  while (i < out.length && newer(out[i], n) < 0) i++;
  out.splice(i, 0, n);
  return out;
}

/** inboxReducer applies one action. It is pure and idempotent per event. */
export function inboxReducer(s: InboxState, a: InboxAction): InboxState {
  switch (a.type) {
    case 'loading':
      return { ...s, loading: true, error: null };
    case 'failed':
      return { ...s, loading: false, error: a.error };
    case 'page': {
      let list: Notification[] = a.append ? [...s.notifications] : [];
      for (const n of a.page.notifications) list = insert(list, n);
      return {
        ...s,
        notifications: list,
        nextCursor: a.page.nextCursor,
        unreadCount: a.unreadCount ?? s.unreadCount,
        loading: false,
        loaded: true,
        error: null,
      };
    }
    case 'received': {
      const old = s.notifications.find((x) => x.id === a.notification.id);
      const n = old?.readAt && !a.notification.readAt ? { ...a.notification, readAt: old.readAt } : a.notification;
      const bump = !old && !n.readAt ? 1 : 0;
      return { ...s, notifications: insert(s.notifications, n), unreadCount: s.unreadCount + bump };
    }
    case 'read': {
      const ids = a.change.all ? null : new Set(a.change.ids);
      let changed = 0;
      const list = s.notifications.map((n) => {
        if (n.readAt || (ids && !ids.has(n.id))) return n;
        changed++;
        return { ...n, readAt: a.at };
      });
      if (a.change.all) return { ...s, notifications: list, unreadCount: 0 };
      if (changed === 0) return s;
      return { ...s, notifications: list, unreadCount: Math.max(0, s.unreadCount - changed) };
    }
    case 'unread': {
      const back = new Map(a.notifications.map((n) => [n.id, n]));
      let changed = 0;
      const list = s.notifications.map((n) => {
        const b = back.get(n.id);
        if (!b || !n.readAt || b.readAt) return n;
        changed++;
        return b;
      });
      return changed ? { ...s, notifications: list, unreadCount: s.unreadCount + changed } : s;
    }
    case 'deleted': {
      const ids = new Set(a.ids);
      const gone = s.notifications.filter((n) => ids.has(n.id));
      if (gone.length === 0) return s;
      const unread = gone.filter((n) => !n.readAt).length;
      return {
        ...s,
        notifications: s.notifications.filter((n) => !ids.has(n.id)),
        unreadCount: Math.max(0, s.unreadCount - unread),
      };
    }
    case 'restored': {
      if (s.notifications.some((n) => n.id === a.notification.id)) return s;
      return {
        ...s,
        notifications: insert(s.notifications, a.notification),
        unreadCount: s.unreadCount + (a.notification.readAt ? 0 : 1),
      };
    }
    case 'count':
      return s.unreadCount === a.count ? s : { ...s, unreadCount: a.count };
  }
}

/**
 * eventAction maps a stream event to a reducer action; undefined for events
 * the inbox does not keep (connected, reset, system events).
 */
export function eventAction(e: HeraldEvent, now: () => string = () => new Date().toISOString()): InboxAction | undefined {
  const d = e.data as Record<string, unknown> | null;
  if (!d || typeof d !== 'object') return undefined;
  switch (e.event) {
    case 'notification':
      return typeof d.id === 'string' ? { type: 'received', notification: d as unknown as Notification } : undefined;
    case 'notification.read':
      if (d.all === true) return { type: 'read', change: { all: true }, at: now() };
      return Array.isArray(d.ids) ? { type: 'read', change: { ids: d.ids as string[] }, at: now() } : undefined;
    case 'notification.deleted':
      return Array.isArray(d.ids) ? { type: 'deleted', ids: d.ids as string[] } : undefined;
    case 'unread-count':
      return typeof d.count === 'number' ? { type: 'count', count: d.count } : undefined;
    default:
      return undefined;
  }
}

/**
 * Inbox holds one InboxState and changes it through the API and the events it
 * is given. subscribe/getSnapshot fit React's useSyncExternalStore. Methods
 * may be called from any handler; they never throw synchronously, and the
 * promises of the write methods reject with the API error after the
 * optimistic change has been undone.
 */
export class Inbox {
  private s: InboxState = initialInbox;
  private readonly listeners = new Set<() => void>();
  private epoch = 0;

  constructor(
    private readonly api: API,
    private readonly pageSize = 20,
  ) {}

  getSnapshot = (): InboxState => this.s;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** dispatch applies an action and notifies subscribers when it changed something. */
  dispatch(a: InboxAction): void {
    const next = inboxReducer(this.s, a);
    if (next === this.s) return;
    this.s = next;
    for (const l of [...this.listeners]) l();
  }

  /** apply feeds a stream event (notifications, read, deleted, counts). */
  apply(e: HeraldEvent): void {
    const a = eventAction(e);
    if (a) this.dispatch(a);
  }

  /** refresh (re)loads the first page and the unread count, replacing the list. */
  async refresh(): Promise<void> {
    const epoch = ++this.epoch;
    this.dispatch({ type: 'loading' });
    try {
      const [page, count] = await Promise.all([this.api.list({ limit: this.pageSize }), this.api.unreadCount()]);
      if (epoch === this.epoch) this.dispatch({ type: 'page', page, append: false, unreadCount: count });
    } catch (e) {
      if (epoch === this.epoch) this.dispatch({ type: 'failed', error: asError(e) });
    }
  }

  /** loadMore appends the next page; a no-op at the end or while loading. */
  async loadMore(): Promise<void> {
    const { nextCursor, loading } = this.s;
    if (!nextCursor || loading) return;
    const epoch = this.epoch;
    this.dispatch({ type: 'loading' });
    try {
      const page = await this.api.list({ limit: this.pageSize, cursor: nextCursor });
      if (epoch === this.epoch) this.dispatch({ type: 'page', page, append: true });
    } catch (e) {
      if (epoch === this.epoch) this.dispatch({ type: 'failed', error: asError(e) });
    }
  }

  async markRead(id: string): Promise<void> {
    const before = this.s.notifications.filter((n) => n.id === id && !n.readAt);
    this.dispatch({ type: 'read', change: { ids: [id] }, at: new Date().toISOString() });
    try {
      await this.api.markRead(id);
    } catch (e) {
      if (isNotFound(e)) {
        // deleted meanwhile (another tab or device): drop it
        this.dispatch({ type: 'deleted', ids: [id] });
        return;
      }
      this.dispatch({ type: 'unread', notifications: before });
      throw e;
    }
  }

  async markAllRead(): Promise<void> {
    const before = this.s.notifications.filter((n) => !n.readAt);
    const count = this.s.unreadCount;
    this.dispatch({ type: 'read', change: { all: true }, at: new Date().toISOString() });
    try {
      await this.api.markAllRead();
    } catch (e) {
      this.dispatch({ type: 'unread', notifications: before });
      this.dispatch({ type: 'count', count });
      throw e;
    }
  }

  async remove(id: string): Promise<void> {
    const gone = this.s.notifications.find((n) => n.id === id);
    this.dispatch({ type: 'deleted', ids: [id] });
    try {
      await this.api.remove(id);
    } catch (e) {
      if (isNotFound(e)) return; // already gone: what was asked for
      if (gone) this.dispatch({ type: 'restored', notification: gone });
      throw e;
    }
  }
}

function isNotFound(e: unknown): boolean {
  return e instanceof HeraldError && e.status === 404;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
