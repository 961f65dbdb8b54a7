/**
 * TabRelay shares one stream between the tabs of an origin: the elected
 * leader opens the stream and posts every event and state change on a
 * BroadcastChannel; the other tabs apply what they receive. A tab that
 * becomes leader opens the stream resuming after the last event it applied,
 * so a handover loses nothing (and the inbox reducer absorbs a duplicate).
 */

import { type ChannelLike, type Elector } from './leader.js';
import { type ConnectionState, type HeraldEvent } from './types.js';

/** A stream the leader holds; close() ends it for good. */
export interface Closable {
  close(): void;
}

/** Options of a TabRelay. */
export interface RelayOptions {
  elector: Elector;
  /** The relay channel; null when the page has no BroadcastChannel (every tab then leads alone). */
  channel: ChannelLike | null;
  /** Opens the leader's stream, reporting through the two callbacks. */
  open(onEvent: (e: HeraldEvent) => void, onState: (s: ConnectionState) => void): Closable;
  /** Applies an event in this tab (leader or follower). */
  onEvent(e: HeraldEvent): void;
  onState(s: ConnectionState): void;
}

type RelayMsg = { t: 'ev'; e: HeraldEvent } | { t: 'st'; s: ConnectionState } | { t: 'hello' };

/** TabRelay runs until close(). Not reusable. */
export class TabRelay {
  private stream: Closable | null = null;
  private state: ConnectionState = 'idle';
  private closed = false;
  private readonly listener = (ev: { data: unknown }) => this.receive(ev.data as RelayMsg);

  constructor(private readonly o: RelayOptions) {}

  /** Whether this tab holds the stream. */
  get leading(): boolean {
    return this.stream !== null;
  }

  start(): void {
    this.o.channel?.addEventListener('message', this.listener);
    this.setState('follower');
    this.o.channel?.postMessage({ t: 'hello' } satisfies RelayMsg);
    this.o.elector.start({
      onLeader: () => this.lead(),
      onFollower: () => this.follow(),
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.o.elector.stop();
    this.stream?.close();
    this.stream = null;
    this.o.channel?.removeEventListener('message', this.listener);
    this.setState('idle');
  }

  private lead(): void {
    if (this.closed || this.stream) return;
    this.stream = this.o.open(
      (e) => {
        this.o.channel?.postMessage({ t: 'ev', e } satisfies RelayMsg);
        this.o.onEvent(e);
      },
      (s) => {
        if (this.stream === null && s === 'idle') return;
        this.o.channel?.postMessage({ t: 'st', s } satisfies RelayMsg);
        this.setState(s);
      },
    );
  }

  private follow(): void {
    this.stream?.close();
    this.stream = null;
    this.setState('follower');
  }

  private receive(m: RelayMsg): void {
    if (!m || typeof m !== 'object' || this.closed) return;
    switch (m.t) {
      case 'hello':
        if (this.stream) this.o.channel?.postMessage({ t: 'st', s: this.state } satisfies RelayMsg);
        break;
      case 'ev':
        if (!this.stream) this.o.onEvent(m.e);
        break;
      case 'st':
        // A follower shows the leader's state, except that it is a follower.
        if (!this.stream) this.setState(m.s === 'open' ? 'open' : m.s === 'idle' ? 'follower' : m.s);
        break;
    }
  }

  private setState(s: ConnectionState): void {
    if (s === this.state) return;
    this.state = s;
    this.o.onState(s);
  }
}
