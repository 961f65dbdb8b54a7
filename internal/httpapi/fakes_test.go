package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// fakeStore is an in-memory notify.Store, enough for the API's behaviour:
// per-user and broadcast inboxes, read and delete state, idempotency keys,
// collapse keys and tickets. Safe for concurrent use.
type fakeStore struct {
	mu      sync.Mutex
	notes   []notify.Notification // in id (= time) order
	readAt  map[string]map[string]time.Time
	deleted map[string]map[string]bool
	idem    map[string][]notify.Receipt
	tickets map[string]notify.Ticket
	seq     map[string]int64
	fail    error // returned by every call when set
}

var _ notify.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		readAt:  map[string]map[string]time.Time{},
		deleted: map[string]map[string]bool{},
		idem:    map[string][]notify.Receipt{},
		tickets: map[string]notify.Ticket{},
		seq:     map[string]int64{},
	}
}

func (s *fakeStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func (s *fakeStore) Epoch() string { return "fake" }

func (s *fakeStore) event(user, name string, data any, at time.Time) notify.Event {
	s.seq[user]++
	raw, _ := json.Marshal(data)
	return notify.Event{UserID: user, Seq: s.seq[user], Name: name, Data: raw, CreatedAt: at}
}

func (s *fakeStore) Publish(_ context.Context, in notify.PublishInput) (notify.PublishOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return notify.PublishOutput{}, s.fail
	}
	if r, ok := s.idem[in.IdempotencyKey]; ok && in.IdempotencyKey != "" {
		return notify.PublishOutput{Receipts: r, Duplicate: true}, nil
	}
	var out notify.PublishOutput
	for _, n := range in.Notifications {
		if in.CollapseKey != "" {
			for _, old := range s.notes {
				if old.UserID == n.UserID && old.CollapseKey == in.CollapseKey && !s.isRead(n.UserID, old.ID) && !s.deleted[n.UserID][old.ID] {
					s.markDeleted(n.UserID, old.ID)
					out.Events = append(out.Events, s.event(n.UserID, notify.EventDeleted, map[string]any{"ids": []string{old.ID}}, n.CreatedAt))
				}
			}
		}
		s.notes = append(s.notes, n)
		out.Events = append(out.Events, s.event(n.UserID, notify.EventNotification, n, n.CreatedAt))
		if n.UserID == notify.BroadcastStream {
			out.Receipts = append(out.Receipts, notify.Receipt{ID: n.ID, Broadcast: true})
		} else {
			out.Receipts = append(out.Receipts, notify.Receipt{ID: n.ID, UserID: n.UserID})
		}
	}
	if in.IdempotencyKey != "" {
		s.idem[in.IdempotencyKey] = out.Receipts
	}
	return out, nil
}

func (s *fakeStore) AppendEvents(_ context.Context, evs []notify.Event) ([]notify.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	out := make([]notify.Event, len(evs))
	for i, e := range evs {
		s.seq[e.UserID]++
		e.Seq = s.seq[e.UserID]
		out[i] = e
	}
	return out, nil
}

func (s *fakeStore) isRead(user, id string) bool { _, ok := s.readAt[user][id]; return ok }

func (s *fakeStore) markDeleted(user, id string) {
	if s.deleted[user] == nil {
		s.deleted[user] = map[string]bool{}
	}
	s.deleted[user][id] = true
}

// inbox returns the user's visible notifications, newest first, with ReadAt set.
func (s *fakeStore) inbox(user string) []notify.Notification {
	var out []notify.Notification
	for _, n := range s.notes {
		if (n.UserID == user || n.UserID == notify.BroadcastStream) && !s.deleted[user][n.ID] {
			if t, ok := s.readAt[user][n.ID]; ok {
				n.ReadAt = &t
			}
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}

func (s *fakeStore) List(_ context.Context, user string, q notify.ListQuery) (notify.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return notify.Page{}, s.fail
	}
	var page notify.Page
	for _, n := range s.inbox(user) {
		if (q.Before != "" && n.ID >= q.Before) || (q.UnreadOnly && n.ReadAt != nil) {
			continue
		}
		if len(page.Notifications) == q.Limit {
			page.Next = page.Notifications[len(page.Notifications)-1].ID
			break
		}
		page.Notifications = append(page.Notifications, n)
	}
	return page, nil
}

func (s *fakeStore) UnreadCount(_ context.Context, user string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	n := 0
	for _, x := range s.inbox(user) {
		if x.ReadAt == nil {
			n++
		}
	}
	return n, nil
}

func (s *fakeStore) find(user, id string) bool {
	for _, n := range s.inbox(user) {
		if n.ID == id {
			return true
		}
	}
	return false
}

func (s *fakeStore) MarkRead(_ context.Context, user, id string) (*notify.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if !s.find(user, id) {
		return nil, notify.ErrNotFound
	}
	if s.isRead(user, id) {
		return nil, nil
	}
	if s.readAt[user] == nil {
		s.readAt[user] = map[string]time.Time{}
	}
	s.readAt[user][id] = time.Now()
	ev := s.event(user, notify.EventRead, map[string]any{"ids": []string{id}}, time.Now())
	return &ev, nil
}

func (s *fakeStore) MarkAllRead(ctx context.Context, user string) (int, *notify.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, nil, s.fail
	}
	n := 0
	for _, x := range s.inbox(user) {
		if x.ReadAt == nil {
			if s.readAt[user] == nil {
				s.readAt[user] = map[string]time.Time{}
			}
			s.readAt[user][x.ID] = time.Now()
			n++
		}
	}
	if n == 0 {
		return 0, nil, nil
	}
	ev := s.event(user, notify.EventRead, map[string]any{"all": true}, time.Now())
	return n, &ev, nil
}

func (s *fakeStore) Delete(_ context.Context, user, id string) (*notify.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	if !s.find(user, id) {
		return nil, notify.ErrNotFound
	}
	s.markDeleted(user, id)
	ev := s.event(user, notify.EventDeleted, map[string]any{"ids": []string{id}}, time.Now())
	return &ev, nil
}

func (s *fakeStore) Head(context.Context, string) (notify.Position, error) {
	return notify.Position{}, errors.New("fake store: Head not implemented")
}

func (s *fakeStore) State(context.Context, string) (notify.StreamState, error) {
	return notify.StreamState{}, errors.New("fake store: State not implemented")
}

func (s *fakeStore) ReadEvents(context.Context, string, notify.Position, int) (notify.EventPage, error) {
	return notify.EventPage{}, errors.New("fake store: ReadEvents not implemented")
}

func (s *fakeStore) CreateTicket(_ context.Context, t notify.Ticket, now time.Time, max int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	held := 0
	for h, old := range s.tickets {
		switch {
		case old.UserID != t.UserID:
		case !now.Before(old.ExpiresAt):
			delete(s.tickets, h)
		default:
			held++
		}
	}
	if max > 0 && held >= max {
		return notify.ErrTooManyTickets
	}
	s.tickets[t.Hash] = t
	return nil
}

func (s *fakeStore) ConsumeTicket(_ context.Context, hash string, now time.Time) (notify.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return notify.Ticket{}, s.fail
	}
	t, ok := s.tickets[hash]
	delete(s.tickets, hash)
	if !ok || !now.Before(t.ExpiresAt) {
		return notify.Ticket{}, notify.ErrNotFound
	}
	return t, nil
}

func (s *fakeStore) ticketList() []notify.Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []notify.Ticket
	for _, t := range s.tickets {
		out = append(out, t)
	}
	return out
}

func (s *fakeStore) Prune(context.Context, time.Time) (int64, error) { return 0, nil }

func (s *fakeStore) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail
}

func (s *fakeStore) Close() error { return nil }

// fakeBus records what is published.
type fakeBus struct {
	mu     sync.Mutex
	events []notify.Event
}

var _ notify.Bus = (*fakeBus)(nil)

func (b *fakeBus) Publish(_ context.Context, evs []notify.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, evs...)
	return nil
}

func (b *fakeBus) Subscribe(func([]notify.Event)) error { return nil }
func (b *fakeBus) Ping(context.Context) error           { return nil }
func (b *fakeBus) Close() error                         { return nil }

func (b *fakeBus) names() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, len(b.events))
	for i, e := range b.events {
		out[i] = e.Name
	}
	return out
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeVerifier accepts the tokens it knows, each for a user and a lifetime
// counted from the clock's time at construction.
type fakeVerifier struct {
	clock  *fakeClock
	tokens map[string]fakeToken
}

type fakeToken struct {
	user   string
	expiry time.Time
}

func (v *fakeVerifier) Verify(_ context.Context, token string) (string, time.Time, error) {
	t, ok := v.tokens[token]
	if !ok {
		return "", time.Time{}, notify.Errorf(notify.CodeUnauth, "invalid token")
	}
	return t.user, t.expiry, nil
}

// streamCall is what the fake Streamer was called with.
type streamCall struct {
	userID      string
	expiry      time.Time
	lastEventID string
	rawQuery    string
}

// fakeStreamer records its calls and either fails with err or writes a
// one-event stream and flushes it.
type fakeStreamer struct {
	mu    sync.Mutex
	calls []streamCall
	err   error
	panic bool
}

func (f *fakeStreamer) ServeStream(w http.ResponseWriter, r *http.Request, userID string, expiry time.Time, last string) error {
	f.mu.Lock()
	f.calls = append(f.calls, streamCall{userID, expiry, last, r.URL.RawQuery})
	err, doPanic := f.err, f.panic
	f.mu.Unlock()
	if doPanic {
		panic("streamer exploded")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "event: connected\ndata: {\"userId\":%q}\n\n", userID); err != nil {
		return err
	}
	return http.NewResponseController(w).Flush()
}

func (f *fakeStreamer) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeStreamer) callList() []streamCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]streamCall(nil), f.calls...)
}

// fakeStats reports fixed figures.
type fakeStats struct{}

func (fakeStats) Connections() int { return 7 }
func (fakeStats) Users() int       { return 3 }
func (fakeStats) UserConnections(userID string) int {
	if userID == "alice" {
		return 2
	}
	return 0
}

// retryErr is a Streamer error that names its Retry-After.
type retryErr struct {
	err   *notify.Error
	after time.Duration
}

func (e retryErr) Error() string             { return e.err.Error() }
func (e retryErr) RetryAfter() time.Duration { return e.after }
func (e retryErr) Unwrap() error             { return e.err }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var errDiskOnFire = errors.New("sqlite: disk on fire")
