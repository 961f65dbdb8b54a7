// Package ratelimit limits how often each of many keys (user ids) may act,
// in memory bounded by a number of keys, not by how many keys ever acted.
//
// Each key has a generic cell rate algorithm (GCRA) schedule: one
// timestamp, the theoretical arrival time of its next event. A key may act
// n times at once, and then once per period/n: the token bucket of n tokens
// refilled at n per period, kept in eight bytes. A key whose schedule is in
// the past is idle, indistinguishable from a key never seen, and is dropped.
//
// golang.org/x/time/rate limits one stream of events; this package is the
// keyed, bounded map around such limits that it does not provide, with the
// per-key state reduced to one time so that a flood of distinct keys costs
// little before it is evicted.
package ratelimit

import (
	"container/list"
	"sync"
	"time"
)

// Limiter allows each key n events per period. It remembers at most maxKeys
// keys: when more are active at once, the least recently seen one is
// forgotten (it may then act as if new). Safe for concurrent use.
type Limiter struct {
	interval time.Duration // period/n: each event pushes a key's schedule this far
	ahead    time.Duration // (n-1)*interval: how far ahead of now a schedule may be
	maxKeys  int

	mu   sync.Mutex
	keys map[string]*list.Element // of *entry
	lru  list.List                // front: most recently seen
}

type entry struct {
	key string
	tat time.Time // theoretical arrival time of the key's next event
}

// New returns a Limiter of n events per period per key, remembering at most
// maxKeys keys. n, period and maxKeys must be positive.
func New(n int, period time.Duration, maxKeys int) *Limiter {
	if n <= 0 || period <= 0 || maxKeys <= 0 {
		panic("ratelimit: n, period and maxKeys must be positive")
	}
	interval := period / time.Duration(n)
	return &Limiter{
		interval: interval,
		ahead:    time.Duration(n-1) * interval,
		maxKeys:  maxKeys,
		keys:     make(map[string]*list.Element),
	}
}

// evictPerCall bounds the idle keys one call drops, so that a call costs
// O(1) while memory still shrinks back after a burst of keys.
const evictPerCall = 2

// Allow reports whether key may act at now, and counts the event if so.
// When it may not, retryAfter is how long until it may.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	el := l.keys[key]
	var e *entry
	if el != nil {
		e = el.Value.(*entry)
		l.lru.MoveToFront(el)
	} else {
		if len(l.keys) >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		e = &entry{key: key, tat: now}
		l.keys[key] = l.lru.PushFront(e)
	}
	tat := e.tat
	if tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - l.ahead; wait > 0 {
		return false, wait
	}
	e.tat = tat.Add(l.interval)
	return true, 0
}

// Len returns the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// dropIdle removes up to evictPerCall idle keys from the least recently
// seen end.
func (l *Limiter) dropIdle(now time.Time) {
	for range evictPerCall {
		el := l.lru.Back()
		if el == nil || el.Value.(*entry).tat.After(now) {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*entry).key)
	l.lru.Remove(el)
}
