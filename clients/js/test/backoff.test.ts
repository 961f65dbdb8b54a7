import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, retryDelay } from '../src/backoff';

describe('backoff', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const top = (a: number) => backoffDelay(a, { baseMs: 100, maxMs: 5000, random: () => 0.999999 });
    expect([0, 1, 2, 3, 5, 6, 40].map(top)).toEqual([99, 199, 399, 799, 3199, 4999, 4999]);
    expect(backoffDelay(10, { random: () => 0 })).toBe(0);
  });

  it('spreads delays over the whole window', () => {
    const xs = Array.from({ length: 2000 }, () => backoffDelay(3, { baseMs: 1000 }));
    expect(Math.min(...xs)).toBeLessThan(1000);
    expect(Math.max(...xs)).toBeGreaterThan(7000);
    expect(Math.max(...xs)).toBeLessThan(8000);
  });

  it('parses Retry-After as seconds or a date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:10 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('never waits less than Retry-After', () => {
    expect(retryDelay(0, 5000, { random: () => 0.5 })).toBe(5000);
    expect(retryDelay(10, 10, { random: () => 0.5, maxMs: 2000 })).toBe(1000);
    expect(retryDelay(0, undefined, { random: () => 0.5 })).toBe(500);
  });
});
