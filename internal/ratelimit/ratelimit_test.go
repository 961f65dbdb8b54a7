package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// n events at once, then one per period/n, with the wait reported.
func TestBurstThenSteadyRate(t *testing.T) {
	t.Parallel()
	l := New(30, time.Minute, 100)
	for i := range 30 {
		if ok, _ := l.Allow("u1", t0); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("u1", t0)
	if ok || wait != 2*time.Second {
		t.Fatalf("31st event: ok=%v retryAfter=%v, want refused for 2s", ok, wait)
	}
	if ok, _ := l.Allow("u1", t0.Add(wait-time.Millisecond)); ok {
		t.Fatal("allowed before retryAfter")
	}
	if ok, _ := l.Allow("u1", t0.Add(wait)); !ok {
		t.Fatal("refused at retryAfter")
	}
	if ok, _ := l.Allow("u1", t0.Add(wait)); ok {
		t.Fatal("two events allowed for one interval")
	}
	// Another key has its own allowance.
	if ok, _ := l.Allow("u2", t0); !ok {
		t.Fatal("u2 refused because of u1")
	}
}

// Over any stretch of time a key gets at most n plus one per interval,
// however often it asks.
func TestNeverMoreThanTheRate(t *testing.T) {
	t.Parallel()
	l := New(30, time.Minute, 100)
	allowed := 0
	span := 10 * time.Minute
	for at := time.Duration(0); at <= span; at += 100 * time.Millisecond {
		if ok, _ := l.Allow("u1", t0.Add(at)); ok {
			allowed++
		}
	}
	if most := 30 + int(span/(2*time.Second)); allowed > most || allowed < most-1 {
		t.Fatalf("%d events allowed over %v, want about %d (30 at once, then one per 2s)", allowed, span, most)
	}
}

// A flood of distinct keys never holds more than maxKeys, and idle keys
// are dropped as calls go on.
func TestMemoryBoundedByKeys(t *testing.T) {
	t.Parallel()
	const maxKeys = 1000
	l := New(30, time.Minute, maxKeys)
	for i := range 200_000 {
		l.Allow(fmt.Sprint("user-", i), t0)
		if n := l.Len(); n > maxKeys {
			t.Fatalf("after %d keys: %d remembered, want at most %d", i+1, n, maxKeys)
		}
	}
	// Two seconds on, every key is idle: each call drops some.
	later := t0.Add(2 * time.Second)
	for range maxKeys {
		l.Allow("someone", later)
	}
	if n := l.Len(); n != 1 {
		t.Fatalf("%d keys remembered once all are idle, want 1", n)
	}
}

// The least recently seen key is the one forgotten at the bound.
func TestEvictsLeastRecentlySeen(t *testing.T) {
	t.Parallel()
	l := New(1, time.Minute, 2)
	l.Allow("a", t0)
	l.Allow("b", t0)
	l.Allow("a", t0) // refused, but seen: b is now the least recent
	l.Allow("c", t0) // evicts b
	if ok, _ := l.Allow("a", t0); ok {
		t.Fatal("a was forgotten; b should have been")
	}
	if ok, _ := l.Allow("b", t0); !ok {
		t.Fatal("b is remembered; it should have been evicted")
	}
}
