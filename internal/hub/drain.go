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
	// The i-th of n connections is ended at i/n of the window, checked
	// every drainStep.
	n := len(conns)
	start := time.Now()
	tick := time.NewTicker(drainStep)
	defer tick.Stop()
	for i := 0; i < n; {
		due := n
		if window > 0 {
			due = min(n, int(int64(n)*int64(time.Since(start))/int64(window))+1)
		}
		for ; i < due; i++ {
			if conns[i].close(ReasonShutdown) {
				h.opts.Metrics.Evicted(ReasonShutdown)
			}
		}
		if i == n {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			window = 0
		}
	}
}
