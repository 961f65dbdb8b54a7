package hub

import (
	"encoding/json"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

// evictions counts Evicted calls by reason.
type evictions struct {
	nopMetrics
	by map[Reason]int
}

func (m *evictions) Evicted(r Reason) { m.by[r]++ }

// An end-streams control event from the bus ends exactly its user's local
// connections, with its reason, and is written to no one.
func TestEndStreamsEventEndsOnlyItsUser(t *testing.T) {
	t.Parallel()
	m := &evictions{by: map[Reason]int{}}
	h := New(Options{Metrics: m})
	a1, _ := h.Register("a")
	a2, _ := h.Register("a")
	b, _ := h.Register("b")
	data := func(reason string) json.RawMessage {
		d, _ := json.Marshal(notify.EndStreamsData{Reason: reason})
		return d
	}
	h.Dispatch([]notify.Event{
		{UserID: "a", Name: notify.EventEndStreams, Data: data(notify.EndStreamsErased)},
		{UserID: notify.BroadcastStream, Name: notify.EventEndStreams, Data: data(notify.EndStreamsErased)},
	})
	for i, c := range []*Conn{a1, a2} {
		select {
		case <-c.Done():
			if c.Reason() != ReasonErased {
				t.Errorf("a's connection %d ended as %s, want erased", i, c.Reason())
			}
		default:
			t.Fatalf("a's connection %d is still open", i)
		}
	}
	select {
	case <-b.Done():
		t.Fatal("b's connection was ended")
	default:
	}
	if len(b.Queue()) != 0 || len(a1.Queue()) != 0 {
		t.Errorf("the control event was queued for writing")
	}
	if m.by[ReasonErased] != 2 || len(m.by) != 1 {
		t.Errorf("evictions %v, want 2 erased", m.by)
	}

	h.Dispatch([]notify.Event{{UserID: "b", Name: notify.EventEndStreams, Data: data(notify.EndStreamsImported)}})
	if b.Reason() != ReasonImported {
		t.Errorf("b ended as %s, want imported", b.Reason())
	}
	if n := h.EndUser("nobody", ReasonErased); n != 0 {
		t.Errorf("EndUser of a user without connections ended %d", n)
	}
}
