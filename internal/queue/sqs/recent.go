package sqs

import "sync"

// recentCap bounds the message ids a Consumer remembers as committed but not
// deleted. Beyond it the oldest are forgotten: their redelivery is then
// published again and de-duplicated by the store's idempotency key instead.
const recentCap = 10_000

// recentSet is a bounded set of strings that forgets the oldest first. Safe
// for concurrent use.
type recentSet struct {
	mu    sync.Mutex
	max   int
	items map[string]struct{}
	order []string // insertion order, may hold removed items
}

func newRecentSet(max int) *recentSet {
	return &recentSet{max: max, items: make(map[string]struct{})}
}

func (s *recentSet) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[k]; ok {
		return
	}
	s.items[k] = struct{}{}
	s.order = append(s.order, k)
	for len(s.items) > s.max || len(s.order) > 2*s.max {
		old := s.order[0]
		s.order = s.order[1:]
		delete(s.items, old)
	}
}

func (s *recentSet) remove(k string) {
	s.mu.Lock()
	delete(s.items, k)
	s.mu.Unlock()
}

func (s *recentSet) contains(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.items[k]
	return ok
}
