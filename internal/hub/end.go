package hub

import (
	"encoding/json"

	"github.com/herald-notify/herald/internal/notify"
)

// Reasons a user's connections are ended by the admin API.
const (
	ReasonErased   Reason = "erased"   // the user was erased
	ReasonImported Reason = "imported" // notifications were imported for the user
)

// EndUser ends every local connection of userID with reason and returns
// how many it ended. The clients reconnect; their streams then start from
// the store (a reset after an erase, the imported notifications replayed
// as catch-up after an import).
func (h *Hub) EndUser(userID string, reason Reason) int {
	s := h.shard(userID)
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for c := range s.users[userID] {
		if c.close(reason) {
			h.opts.Metrics.Evicted(reason)
			n++
		}
	}
	return n
}

// endStreams acts on a notify.EventEndStreams control event from the bus.
func (h *Hub) endStreams(e *notify.Event) {
	if e.Broadcast() {
		return // only ever sent for one user
	}
	var d notify.EndStreamsData
	_ = json.Unmarshal(e.Data, &d) // an unknown reason still ends the streams
	reason := ReasonClosed
	switch d.Reason {
	case notify.EndStreamsErased:
		reason = ReasonErased
	case notify.EndStreamsImported:
		reason = ReasonImported
	}
	h.EndUser(e.UserID, reason)
}
