/**
 * React bindings: HeraldProvider, useNotifications, useUnreadCount, useHerald
 * and useSSE. React is an optional peer dependency of the package; only this
 * entry point imports it.
 */

import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { Herald, type HeraldOptions } from './client.js';
import { initialInbox, type InboxState } from './inbox.js';
import { type ConnectedInfo, type ConnectionState, type Notification } from './types.js';

const Ctx = createContext<Herald | null>(null);

/** Props of HeraldProvider: an existing client, or the options to make one. */
export type HeraldProviderProps = ({ client: Herald } | ({ client?: undefined } & HeraldOptions)) & {
  children?: ReactNode;
};

/**
 * HeraldProvider gives its subtree a started Herald client. With options it
 * creates the client on mount and closes it on unmount (options are read
 * once); with client it only provides it (the caller starts and closes it).
 */
export function HeraldProvider(props: HeraldProviderProps) {
  const { children, client: given, ...options } = props as HeraldOptions & { client?: Herald; children?: ReactNode };
  const [own, setOwn] = useState<Herald | null>(null);
  const opts = useRef(options);
  useEffect(() => {
    if (given) return;
    const c = new Herald(opts.current).start();
    setOwn(c);
    return () => {
      c.close();
      setOwn(null);
    };
  }, [given]);
  return createElement(Ctx.Provider, { value: given ?? own }, children);
}

/** useHerald returns the client of the nearest HeraldProvider (null before it is ready). */
export function useHerald(): Herald | null {
  return useContext(Ctx);
}

const noop = () => () => {};
const empty = () => initialInbox;

function useInbox(): InboxState {
  const c = useHerald();
  return useSyncExternalStore(c ? c.inbox.subscribe : noop, c ? c.inbox.getSnapshot : empty, empty);
}

function useConnection(c: Herald | null): ConnectionState {
  return useSyncExternalStore(
    (cb) => (c ? c.onState(cb) : () => {}),
    () => c?.state ?? 'idle',
    () => 'idle',
  );
}

/** The value of useNotifications. */
export interface UseNotifications extends InboxState {
  connected: boolean;
  state: ConnectionState;
  hasMore: boolean;
  loadMore(): Promise<void>;
  refresh(): Promise<void>;
  markRead(id: string): Promise<void>;
  markAllRead(): Promise<void>;
  remove(id: string): Promise<void>;
}

const idle = () => Promise.resolve();

/** useNotifications returns the inbox and its actions; re-renders on every change. */
export function useNotifications(): UseNotifications {
  const c = useHerald();
  const s = useInbox();
  const state = useConnection(c);
  return {
    ...s,
    connected: state === 'open',
    state,
    hasMore: s.nextCursor !== null,
    loadMore: c ? () => c.inbox.loadMore() : idle,
    refresh: c ? () => c.inbox.refresh() : idle,
    markRead: c ? (id) => c.inbox.markRead(id) : idle,
    markAllRead: c ? () => c.inbox.markAllRead() : idle,
    remove: c ? (id) => c.inbox.remove(id) : idle,
  };
}

/** useUnreadCount returns the unread count; re-renders only when it changes. */
export function useUnreadCount(): number {
  const c = useHerald();
  return useSyncExternalStore(
    c ? c.inbox.subscribe : noop,
    () => c?.inbox.getSnapshot().unreadCount ?? 0,
    () => 0,
  );
}

/** Options of useSSE: the original hook's callbacks, plus how to connect without a provider. */
export interface UseSSEOptions extends HeraldOptions {
  onNotification?: (n: Notification) => void;
  onConnected?: (info: ConnectedInfo) => void;
  onError?: (error: Error) => void;
  /** Any other event by name (system events, unread-count, …). */
  onEvent?: (event: string, data: unknown) => void;
}

/**
 * useSSE is the original hook's signature: callbacks in, {connected, error}
 * out. Inside a HeraldProvider it listens to the provider's client; outside
 * one it runs its own (options are read on mount). Callbacks may change on
 * every render; the latest ones are called.
 */
export function useSSE(options: UseSSEOptions = {}): { connected: boolean; error: Error | null } {
  const shared = useHerald();
  const latest = useRef(options);
  latest.current = options;
  const [own, setOwn] = useState<Herald | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (shared) return;
    const c = new Herald({ inbox: false, ...latest.current }).start();
    setOwn(c);
    return () => {
      c.close();
      setOwn(null);
    };
  }, [shared]);
  const c = shared ?? own;
  const state = useConnection(c);
  useEffect(() => {
    if (!c) return;
    const offs = [
      c.on<Notification>('notification', (n) => latest.current.onNotification?.(n)),
      c.on<ConnectedInfo>('connected', (i) => latest.current.onConnected?.(i)),
      c.on('*', (d, e) => latest.current.onEvent?.(e.event, d)),
      c.onState((s) => {
        const err = c.error;
        if (s === 'waiting' && err) {
          setError(err);
          latest.current.onError?.(err);
        } else if (s === 'open') setError(null);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [c]);
  return { connected: state === 'open', error };
}

export { Herald, type HeraldOptions } from './client.js';
export type { InboxState } from './inbox.js';
export type { Notification, ConnectedInfo, ConnectionState } from './types.js';
