package hub

import (
	"context"
	"sync"

	"github.com/herald-notify/herald/internal/notify"
)

// fakeStore is an in-memory hub.Store for tests of the stream logic; the
// real stores are exercised end to end in cmd/herald's tests.
type fakeStore struct {
	mu     sync.Mutex
	epoch  string
	events map[string][]notify.Event // by stream; Seq = index+1
	unread map[string]int
	fail   error
	states int // State calls
	reads  int // ReadEvents calls
}

func newFakeStore() *fakeStore {
	return &fakeStore{epoch: "test", events: map[string][]notify.Event{}, unread: map[string]int{}}
}

// add stores an event in its stream and returns it with its Seq.
func (s *fakeStore) add(userID, name, data string) notify.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := notify.Event{UserID: userID, Name: name, Data: []byte(data)}
	e.Seq = int64(len(s.events[userID]) + 1)
	s.events[userID] = append(s.events[userID], e)
	return e
}

func (s *fakeStore) Epoch() string { return s.epoch }

// State reports the heads, and the user's count from unread (all of it in
// the user's share: the fake keeps no broadcast count).
func (s *fakeStore) State(_ context.Context, userID string) (notify.StreamState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return notify.StreamState{}, s.fail
	}
	s.states++
	return notify.StreamState{
		Position: notify.Position{User: int64(len(s.events[userID])), Broadcast: int64(len(s.events[""]))},
		Unread:   notify.UnreadShares{User: int64(s.unread[userID])},
	}, nil
}

func (s *fakeStore) ReadEvents(_ context.Context, userID string, pos notify.Position, limit int) (notify.EventPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, b := s.events[userID], s.events[""]
	if pos.User > int64(len(u)) || pos.Broadcast > int64(len(b)) {
		return notify.EventPage{}, notify.ErrCursorGone
	}
	s.reads++
	return notify.NewEventPage(pos, u[pos.User:], b[pos.Broadcast:], limit), nil
}

// stateCalls returns how many times State was called.
func (s *fakeStore) stateCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.states
}
