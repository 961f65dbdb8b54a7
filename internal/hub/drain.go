package hub

import (
	"context"
	"time"
)

// drainStep is the granularity at which Drain spreads closes.
const drainStep = 10 * time.Millisecond

// Drain refuses new connections from now on and ends the open ones spread
// evenly over window, so that their clients do not all reconnect (to the
// other instances) at the same moment. If ctx ends first, the remaining
// connections are ended at once. Drain returns when every connection open
// at its start has been told to end.
func (h *Hub) Drain(ctx context.Context, window time.Duration) {
	h.draining.Store(true)
	var conns []*Conn
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for _, set := range s.users {
			for c := range set {
				conns = append(conns, c)
			}
		}
		s.mu.RUnlock()
	}
	steps := int(window / drainStep)
	if steps < 1 {
		steps = 1
	}
	per := (len(conns) + steps - 1) / steps
	tick := time.NewTicker(drainStep)
	defer tick.Stop()
	for len(conns) > 0 {
		n := min(per, len(conns))
		for _, c := range conns[:n] {
			if c.close(ReasonShutdown) {
				h.opts.Metrics.Evicted(ReasonShutdown)
			}
		}
		conns = conns[n:]
		if len(conns) == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			per = len(conns)
		}
	}
}
