import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelElector, LockElector } from '../src/leader';
import { FakeBus, FakeLocks } from './fakes';

const flush = () => new Promise<void>((r) => queueMicrotask(() => r()));

describe('LockElector', () => {
  it('elects one tab and hands over to the next in order', async () => {
    const locks = new FakeLocks();
    const leaders: string[] = [];
    const tabs = ['a', 'b', 'c'].map((id) => {
      const e = new LockElector(locks, 'herald');
      e.start({ onLeader: () => leaders.push(id) });
      return e;
    });
    await flush();
    expect(leaders).toEqual(['a']);
    tabs[1].stop(); // a waiting tab leaves the queue
    tabs[0].stop();
    await flush();
    await flush();
    expect(leaders).toEqual(['a', 'c']);
    tabs[2].stop();
  });
});

describe('ChannelElector', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  async function advance(ms: number) {
    for (let t = 0; t < ms; t += 50) {
      await vi.advanceTimersByTimeAsync(50);
    }
  }

  it('elects exactly one leader among tabs started together', async () => {
    const bus = new FakeBus();
    const leaders: string[] = [];
    const tabs = ['c', 'a', 'b'].map((id) => {
      const e = new ChannelElector(bus.channel(), { id });
      e.start({ onLeader: () => leaders.push(id) });
      return e;
    });
    await advance(2000);
    expect(leaders).toEqual(['a']);
    expect(tabs.filter((t) => t.leading)).toHaveLength(1);
    await advance(10000);
    expect(leaders).toEqual(['a']); // heartbeats keep it stable
    tabs.forEach((t) => t.stop());
  });

  it('a late tab joins as follower; a leader that leaves is replaced at once', async () => {
    const bus = new FakeBus();
    const leaders: string[] = [];
    const a = new ChannelElector(bus.channel(), { id: 'b-first' });
    a.start({ onLeader: () => leaders.push('first') });
    await advance(500);
    const b = new ChannelElector(bus.channel(), { id: 'a-second' }); // smaller id, but a leader exists
    b.start({ onLeader: () => leaders.push('second') });
    await advance(5000);
    expect(leaders).toEqual(['first']);
    a.stop(); // says goodbye
    await advance(400);
    expect(leaders).toEqual(['first', 'second']);
    b.stop();
  });

  it('a leader that vanishes without goodbye is replaced after the timeout', async () => {
    const bus = new FakeBus();
    const leaders: string[] = [];
    const ch = bus.channel();
    const a = new ChannelElector(ch, { id: 'a' });
    a.start({ onLeader: () => leaders.push('a') });
    await advance(500);
    const b = new ChannelElector(bus.channel(), { id: 'b' });
    b.start({ onLeader: () => leaders.push('b') });
    await advance(2000);
    ch.muted = true; // the tab crashed: no more heartbeats, no goodbye
    await advance(2000);
    expect(leaders).toEqual(['a']);
    await advance(3000);
    expect(leaders).toEqual(['a', 'b']);
    a.stop();
    b.stop();
  });

  it('two leaders that meet resolve to the smaller id', async () => {
    const bus = new FakeBus();
    const events: string[] = [];
    const ca = bus.channel();
    const cb = bus.channel();
    // Partition: each starts alone.
    bus.channels.delete(ca);
    bus.channels.delete(cb);
    const a = new ChannelElector(ca, { id: 'a' });
    const b = new ChannelElector(cb, { id: 'b' });
    a.start({ onLeader: () => events.push('a leads'), onFollower: () => events.push('a follows') });
    b.start({ onLeader: () => events.push('b leads'), onFollower: () => events.push('b follows') });
    await advance(1000);
    expect(events.sort()).toEqual(['a leads', 'b leads']);
    bus.channels.add(ca);
    bus.channels.add(cb);
    await advance(3000);
    expect(events).toContain('b follows');
    expect(events).not.toContain('a follows');
    expect([a.leading, b.leading]).toEqual([true, false]);
    a.stop();
    b.stop();
  });
});
