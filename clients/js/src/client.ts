/** Herald: the framework-free client that ties the pieces together. */

import { API, type APIOptions } from './api.js';
import { type BackoffOptions } from './backoff.js';
import { Inbox } from './inbox.js';
import { createElector, SoloElector, type ChannelLike, type Elector } from './leader.js';
import { Stream, type StreamEnv, type StreamStatus } from './stream.js';
import { TabRelay } from './tabs.js';
import { type ConnectedInfo, type ConnectionState, type HeraldEvent, type Notification } from './types.js';

/** Options of a Herald client. */
export interface HeraldOptions extends APIOptions {
  /** Open the stream with a single-use ticket (default) or, if false, an Authorization header. */
  ticket?: boolean;
  /**
   * Share one stream between all tabs of the origin (default true). Tabs
   * elect a leader that holds the stream and relays its events.
   */
  shareConnection?: boolean;
  /**
   * Prefix of the localStorage key that remembers the last event id, so that
   * a reload resumes; also names the tab election. null disables the memory.
   * Default "herald".
   */
  storageKey?: string | null;
  /** Inbox page size. Default 20. */
  pageSize?: number;
  /** Load the inbox on start (default true). */
  inbox?: boolean;
  backoff?: BackoffOptions;
  /** See StreamOptions.idleTimeoutMs. */
  idleTimeoutMs?: number;
  /** Overrides for tests: the election, the relay channel, the page environment, storage. */
  elector?: Elector;
  channel?: ChannelLike | null;
  env?: StreamEnv;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
}

/** Handler of stream events. */
export type EventHandler<T = unknown> = (data: T, event: HeraldEvent<T>) => void;

interface Saved {
  id: string;
  user?: string;
}

/**
 * Herald is one page's client: one stream (shared with the other tabs), an
 * inbox kept in sync by it, and event subscriptions. Create it, call start(),
 * and close() when the page or component goes away. Methods are safe to call
 * in any order; handlers run synchronously in event order.
 */
export class Herald {
  readonly api: API;
  readonly inbox: Inbox;
  private readonly o: HeraldOptions;
  private readonly handlers = new Map<string, Set<EventHandler>>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private relay: TabRelay | null = null;
  private closeElector: () => void = () => {};
  private ownChannel: BroadcastChannel | null = null;
  private stateValue: ConnectionState = 'idle';
  private lastId: string | undefined;
  private user: string | undefined;
  private errorValue: Error | null = null;

  constructor(o: HeraldOptions = {}) {
    this.o = o;
    this.api = new API(o);
    this.inbox = new Inbox(this.api, o.pageSize);
    const saved = this.load();
    this.lastId = saved?.id;
    this.user = saved?.user;
  }

  /** The connection state of this tab (a follower reports its leader's). */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Whether events are flowing (this tab's stream or the leader's is open). */
  get connected(): boolean {
    return this.stateValue === 'open';
  }

  /** The last connection error, cleared when a stream opens. */
  get error(): Error | null {
    return this.errorValue;
  }

  /** The id of the last durable event applied. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /**
   * on subscribes to an event name ("notification", "unread-count", a system
   * event, …, or "*" for all); returns the unsubscribe.
   */
  on<T = unknown>(event: string, handler: EventHandler<T>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as EventHandler);
    return () => set.delete(handler as EventHandler);
  }

  /** onNotification is on("notification") with the notification typed. */
  onNotification(handler: (n: Notification) => void): () => void {
    return this.on<Notification>('notification', (n) => handler(n));
  }

  /** onState subscribes to connection state changes; returns the unsubscribe. */
  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** start loads the inbox and joins (or becomes) the tab that holds the stream. Idempotent. */
  start(): this {
    if (this.relay) return this;
    const name = `${this.o.storageKey ?? 'herald'}:${this.api.base || 'self'}`;
    let elector = this.o.elector;
    let channel = this.o.channel;
    if (this.o.shareConnection === false) {
      elector = new SoloElector();
      channel = null;
    }
    if (!elector) {
      const e = createElector(name);
      elector = e.elector;
      this.closeElector = e.close;
    }
    if (channel === undefined) {
      channel = typeof BroadcastChannel !== 'undefined' ? (this.ownChannel = new BroadcastChannel(name + ':relay')) : null;
    }
    this.relay = new TabRelay({
      elector,
      channel,
      open: (onEvent, onState) => this.openStream(onEvent, onState),
      onEvent: (e) => this.apply(e),
      onState: (s) => this.setState(s),
    });
    this.relay.start();
    if (this.o.inbox !== false) void this.inbox.refresh();
    return this;
  }

  /** close ends the stream (another tab takes over) and all handlers. Idempotent. */
  close(): void {
    this.relay?.close();
    this.relay = null;
    this.closeElector();
    this.ownChannel?.close();
    this.ownChannel = null;
  }

  /** Whether this tab holds the stream. */
  get leading(): boolean {
    return this.relay?.leading ?? false;
  }

  private openStream(onEvent: (e: HeraldEvent) => void, onState: (s: ConnectionState) => void): Stream {
    const s = new Stream({
      api: this.api,
      ticket: this.o.ticket,
      lastEventId: () => this.lastId,
      onEvent,
      onStatus: (st: StreamStatus) => {
        if (st.state === 'waiting' && st.error) this.errorValue = st.error;
        if (st.state === 'open') this.errorValue = null;
        onState(st.state === 'closed' ? 'idle' : st.state);
      },
      backoff: this.o.backoff,
      idleTimeoutMs: this.o.idleTimeoutMs,
      env: this.o.env,
    });
    void s.start();
    return s;
  }

  /** apply handles one event, from this tab's stream or relayed. */
  private apply(e: HeraldEvent): void {
    if (e.id) {
      this.lastId = e.id;
      if (this.leading) this.save();
    }
    if (e.event === 'connected') {
      const info = e.data as ConnectedInfo;
      if (this.user && info?.userId && info.userId !== this.user) {
        // The remembered id belongs to another user: it resumed from the
        // wrong place, so start over as after a reset.
        this.lastId = undefined;
        void this.inbox.refresh();
      }
      if (info?.userId) this.user = info.userId;
      if (this.leading) this.save();
    } else if (e.event === 'reset') {
      this.lastId = undefined;
      if (this.leading) this.save();
      void this.inbox.refresh();
    } else {
      this.inbox.apply(e);
    }
    this.emit(e.event, e);
    this.emit('*', e);
  }

  private emit(name: string, e: HeraldEvent): void {
    const set = this.handlers.get(name);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h(e.data, e);
      } catch (err) {
        // A failing handler must not stop the others or the stream.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private setState(s: ConnectionState): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    for (const l of [...this.stateListeners]) l(s);
  }

  private storage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null {
    if (this.o.storageKey === null) return null;
    if (this.o.storage !== undefined) return this.o.storage;
    try {
      return typeof localStorage !== 'undefined' ? localStorage : null;
    } catch {
      return null; // storage disabled
    }
  }

  private key(): string {
    return `${this.o.storageKey ?? 'herald'}:cursor:${this.api.base || 'self'}`;
  }

  private load(): Saved | undefined {
    try {
      const raw = this.storage()?.getItem(this.key());
      const v = raw ? (JSON.parse(raw) as Saved) : undefined;
      return v && typeof v.id === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }

  private save(): void {
    try {
      const st = this.storage();
      if (!st) return;
      if (this.lastId) st.setItem(this.key(), JSON.stringify({ id: this.lastId, user: this.user } satisfies Saved));
      else st.removeItem(this.key());
    } catch {
      // quota or disabled storage: resume only within this page
    }
  }
}

/** createHerald builds a client and starts it. */
export function createHerald(o: HeraldOptions = {}): Herald {
  return new Herald(o).start();
}
