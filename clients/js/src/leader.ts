/**
 * Leader election between the tabs of one origin, so that one tab holds the
 * stream for all of them. Web Locks (navigator.locks) are the primary
 * mechanism: the browser grants an exclusive lock to one tab and hands it to
 * the next waiting tab the moment the holder closes or crashes. Where Web
 * Locks are missing, ChannelElector elects over a BroadcastChannel with
 * heartbeats (best effort: a browser that throttles timers of hidden tabs can
 * briefly make two leaders, which only costs a second connection).
 */

/** Callbacks of an election. */
export interface ElectionHandlers {
  /** This tab became the leader. */
  onLeader(): void;
  /** This tab lost the leadership without stop() (ChannelElector only). */
  onFollower?(): void;
}

/** Elector campaigns for leadership until stop(). Single use. */
export interface Elector {
  start(h: ElectionHandlers): void;
  /** stop resigns (if leader) and ends the campaign. Idempotent. */
  stop(): void;
}

/** The part of the Web Locks API an election uses. */
export interface LockManagerLike {
  request(name: string, options: { mode?: 'exclusive'; signal?: AbortSignal }, cb: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** LockElector elects with an exclusive Web Lock named name. */
export class LockElector implements Elector {
  private ac = new AbortController();
  private release: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly locks: LockManagerLike,
    private readonly name: string,
  ) {}

  start(h: ElectionHandlers): void {
    this.locks
      .request(this.name, { mode: 'exclusive', signal: this.ac.signal }, () => {
        if (this.stopped) return Promise.resolve();
        return new Promise<void>((resolve) => {
          this.release = resolve;
          h.onLeader();
        });
      })
      .catch(() => {
        // aborted by stop(): nothing to do
      });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ac.abort();
    this.release?.();
  }
}

/** The part of BroadcastChannel an election and a relay use. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  close(): void;
}

/** Options of a ChannelElector. */
export interface ChannelElectorOptions {
  /** This tab's id; ties are won by the smallest. Default random. */
  id?: string;
  /** Leader heartbeat period. Default 1000 ms. */
  heartbeatMs?: number;
  /** Silence after which the leader is presumed gone. Default 3000 ms. */
  timeoutMs?: number;
  /** How long a claim (or the first probe) waits for objections. Default 200 ms. */
  claimMs?: number;
}

type ElectMsg = { t: 'hb' | 'claim' | 'bye'; id: string } | { t: 'probe'; id: string };

/**
 * ChannelElector elects over a BroadcastChannel: the leader sends a heartbeat;
 * a tab that hears none for timeoutMs (or a goodbye) claims, and a claim
 * stands if no smaller id claims or leads within claimMs. Two leaders that
 * hear each other resolve to the smaller id.
 */
export class ChannelElector implements Elector {
  readonly id: string;
  private readonly hb: number;
  private readonly timeout: number;
  private readonly claimMs: number;
  private state: 'idle' | 'follower' | 'claiming' | 'leader' = 'idle';
  private lastSeen = 0;
  private tick: ReturnType<typeof setInterval> | undefined;
  private claimTimer: ReturnType<typeof setTimeout> | undefined;
  private h: ElectionHandlers | null = null;
  private readonly listener = (ev: { data: unknown }) => this.receive(ev.data as ElectMsg);

  constructor(
    private readonly channel: ChannelLike,
    o: ChannelElectorOptions = {},
  ) {
    this.id = o.id ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    this.hb = o.heartbeatMs ?? 1000;
    this.timeout = o.timeoutMs ?? 3000;
    this.claimMs = o.claimMs ?? 200;
  }

  /** Whether this tab leads now. */
  get leading(): boolean {
    return this.state === 'leader';
  }

  start(h: ElectionHandlers): void {
    if (this.state !== 'idle') return;
    this.h = h;
    this.state = 'follower';
    this.channel.addEventListener('message', this.listener);
    // Ask whether a leader exists; claim if none answers within claimMs.
    this.lastSeen = Date.now() - this.timeout;
    this.channel.postMessage({ t: 'probe', id: this.id });
    this.claimTimer = setTimeout(() => this.maybeClaim(), this.claimMs);
    this.tick = setInterval(() => this.onTick(), this.hb);
  }

  stop(): void {
    if (this.state === 'idle') return;
    if (this.state === 'leader') this.channel.postMessage({ t: 'bye', id: this.id });
    this.state = 'idle';
    clearInterval(this.tick);
    clearTimeout(this.claimTimer);
    this.channel.removeEventListener('message', this.listener);
    this.h = null;
  }

  private onTick(): void {
    if (this.state === 'leader') this.channel.postMessage({ t: 'hb', id: this.id });
    else if (this.state === 'follower') this.maybeClaim();
  }

  private maybeClaim(): void {
    if (this.state !== 'follower' || Date.now() - this.lastSeen < this.timeout) return;
    this.claim();
  }

  private claim(): void {
    this.state = 'claiming';
    this.channel.postMessage({ t: 'claim', id: this.id });
    clearTimeout(this.claimTimer);
    this.claimTimer = setTimeout(() => {
      if (this.state !== 'claiming') return;
      this.state = 'leader';
      this.channel.postMessage({ t: 'hb', id: this.id });
      this.h?.onLeader();
    }, this.claimMs);
  }

  private receive(m: ElectMsg): void {
    if (!m || typeof m !== 'object' || typeof m.id !== 'string' || m.id === this.id) return;
    switch (m.t) {
      case 'probe':
        if (this.state === 'leader') this.channel.postMessage({ t: 'hb', id: this.id });
        break;
      case 'hb':
        if (this.state === 'leader') {
          if (m.id < this.id) this.stepDown();
          else this.channel.postMessage({ t: 'hb', id: this.id });
        } else {
          this.lastSeen = Date.now();
          if (this.state === 'claiming') this.state = 'follower';
        }
        break;
      case 'claim':
        if (this.state === 'leader') this.channel.postMessage({ t: 'hb', id: this.id });
        else if (this.state === 'claiming' && m.id < this.id) {
          this.state = 'follower';
          this.lastSeen = Date.now();
        }
        break;
      case 'bye':
        if (this.state === 'follower') this.claim();
        break;
    }
  }

  private stepDown(): void {
    this.state = 'follower';
    this.lastSeen = Date.now();
    this.h?.onFollower?.();
  }
}

/** SoloElector makes this tab the leader at once (no other tab to share with). */
export class SoloElector implements Elector {
  private stopped = false;
  start(h: ElectionHandlers): void {
    queueMicrotask(() => !this.stopped && h.onLeader());
  }
  stop(): void {
    this.stopped = true;
  }
}

/**
 * createElector picks the best mechanism the page has: Web Locks, else a
 * BroadcastChannel, else none (every tab leads).
 */
export function createElector(name: string): { elector: Elector; close(): void } {
  const nav = typeof navigator !== 'undefined' ? (navigator as { locks?: LockManagerLike }) : undefined;
  if (nav?.locks) return { elector: new LockElector(nav.locks, name), close() {} };
  if (typeof BroadcastChannel !== 'undefined') {
    const ch = new BroadcastChannel(name + ':elect');
    return { elector: new ChannelElector(ch), close: () => ch.close() };
  }
  return { elector: new SoloElector(), close() {} };
}
