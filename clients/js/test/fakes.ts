import type { ChannelLike, LockManagerLike } from '../src/leader';

/** FakeBus connects FakeChannels like BroadcastChannel: a post reaches every other channel, asynchronously. */
export class FakeBus {
  readonly channels = new Set<FakeChannel>();
  channel(): FakeChannel {
    const c = new FakeChannel(this);
    this.channels.add(c);
    return c;
  }
}

export class FakeChannel implements ChannelLike {
  private listeners = new Set<(ev: { data: unknown }) => void>();
  closed = false;
  /** muted drops everything this channel sends, like a crashed tab. */
  muted = false;
  constructor(private bus: FakeBus) {}
  postMessage(message: unknown): void {
    if (this.closed) throw new Error('closed');
    if (this.muted) return;
    const data = structuredClone(message);
    for (const c of this.bus.channels) {
      if (c !== this && !c.closed) queueMicrotask(() => c.listeners.forEach((l) => l({ data })));
    }
  }
  addEventListener(_t: 'message', l: (ev: { data: unknown }) => void): void {
    this.listeners.add(l);
  }
  removeEventListener(_t: 'message', l: (ev: { data: unknown }) => void): void {
    this.listeners.delete(l);
  }
  close(): void {
    this.closed = true;
    this.bus.channels.delete(this);
  }
}

/** FakeLocks grants an exclusive lock in request order, like navigator.locks. */
export class FakeLocks implements LockManagerLike {
  private held = new Map<string, boolean>();
  private queue = new Map<string, Array<() => void>>();
  request(name: string, o: { signal?: AbortSignal }, cb: (lock: unknown) => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.held.set(name, true);
        cb({ name }).finally(() => {
          this.held.set(name, false);
          resolve(undefined);
          this.queue.get(name)?.shift()?.();
        });
      };
      if (!this.held.get(name)) return grant();
      const q = this.queue.get(name) ?? [];
      this.queue.set(name, q);
      q.push(grant);
      o.signal?.addEventListener('abort', () => {
        const i = q.indexOf(grant);
        if (i >= 0) q.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
}
