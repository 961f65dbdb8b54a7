package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// memStore is the part of a Store that Service's publishing uses, in
// memory; the real stores run the contract suite in internal/store.
type memStore struct {
	Store // the methods Service's publishing does not call: nil, they panic
	mu    sync.Mutex
	seq   map[string]int64
	fail  error
	saved []Notification
}

func (s *memStore) next(stream string) int64 {
	if s.seq == nil {
		s.seq = map[string]int64{}
	}
	s.seq[stream]++
	return s.seq[stream]
}

func (s *memStore) Publish(_ context.Context, in PublishInput) (PublishOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return PublishOutput{}, s.fail
	}
	var out PublishOutput
	for _, n := range in.Notifications {
		s.saved = append(s.saved, n)
		data, _ := NotificationEventData(n)
		out.Receipts = append(out.Receipts, Receipt{ID: n.ID, UserID: n.UserID, Broadcast: n.UserID == BroadcastStream})
		out.Events = append(out.Events, Event{UserID: n.UserID, Seq: s.next(n.UserID), Name: EventNotification, Data: data, CreatedAt: n.CreatedAt})
	}
	return out, nil
}

func (s *memStore) AppendEvents(_ context.Context, evs []Event) ([]Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	out := append([]Event(nil), evs...)
	for i := range out {
		out[i].Seq = s.next(out[i].UserID)
	}
	return out, nil
}

// failingBus refuses every publish, and records what it was offered.
type failingBus struct {
	mu      sync.Mutex
	offered [][]Event
}

func (b *failingBus) Publish(_ context.Context, evs []Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.offered = append(b.offered, evs)
	return errors.New("redis: connection refused")
}
func (b *failingBus) Subscribe(func([]Event)) error { return nil }
func (b *failingBus) Ping(context.Context) error    { return errors.New("down") }
func (b *failingBus) Close() error                  { return nil }

// counting is an Observer that counts errors by kind and published items.
type counting struct {
	mu        sync.Mutex
	errors    map[string]int
	published map[string]int
}

func (c *counting) Published(kind string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.published[kind] += n
}
func (c *counting) PublishLatency(time.Duration) {}
func (c *counting) Error(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors[kind]++
}

type serviceFixture struct {
	svc   *Service
	store *memStore
	bus   *failingBus
	obs   *counting
	log   *bytes.Buffer // Service logs on the publishing goroutine
}

func newServiceFixture() *serviceFixture {
	f := &serviceFixture{store: &memStore{}, bus: &failingBus{}, log: &bytes.Buffer{},
		obs: &counting{errors: map[string]int{}, published: map[string]int{}}}
	f.svc = NewService(f.store, f.bus, slog.New(slog.NewTextHandler(f.log, nil))).Observe(f.obs)
	return f
}

// TestPublishIsAcknowledgedWhenTheBusFails: the store has committed, so
// the publish succeeds; the bus failure is counted, and logged at most once
// a second however many publishes fail.
func TestPublishIsAcknowledgedWhenTheBusFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newServiceFixture()
		ctx := context.Background()
		for i := range 5 {
			receipts, err := f.svc.Publish(ctx, &Publication{UserIDs: []string{"u1", "u2"}, Type: "t", Title: "x"})
			if err != nil || len(receipts) != 2 {
				t.Fatalf("publish %d with the bus down: %v, %v; want 2 receipts", i, receipts, err)
			}
		}
		if err := f.svc.SendEvent(ctx, &SystemEvent{UserID: "u1", Event: "deploy", Durable: true}); err != nil {
			t.Fatalf("durable event with the bus down: %v", err)
		}
		if err := f.svc.SendEvent(ctx, &SystemEvent{UserID: "u1", Event: "typing"}); err != nil {
			t.Fatalf("transient event with the bus down: %v", err)
		}
		if len(f.store.saved) != 10 {
			t.Fatalf("stored %d notifications, want 10", len(f.store.saved))
		}
		if n := len(f.bus.offered); n != 7 {
			t.Fatalf("the bus was offered %d batches, want 7 (every commit rings it)", n)
		}
		if f.obs.errors["bus"] != 7 || f.obs.errors["store"] != 0 {
			t.Fatalf("errors counted %v, want bus 7", f.obs.errors)
		}
		if f.obs.published["notification"] != 10 || f.obs.published["event"] != 2 {
			t.Fatalf("published counted %v", f.obs.published)
		}
		const warning = "bus publish failed"
		if n := strings.Count(f.log.String(), warning); n != 1 {
			t.Fatalf("%d warnings within a second, want 1", n)
		}
		time.Sleep(time.Second)
		if _, err := f.svc.Publish(ctx, &Publication{UserID: "u1", Type: "t", Title: "x"}); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(f.log.String(), warning); n != 2 {
			t.Fatalf("%d warnings after a second more, want 2", n)
		}
	})
}

// TestPublishFailsWhenTheStoreFails: nothing is acknowledged or rung.
func TestPublishFailsWhenTheStoreFails(t *testing.T) {
	t.Parallel()
	f := newServiceFixture()
	f.store.fail = Errorf(CodeUnavailable, "disk gone")
	_, err := f.svc.Publish(context.Background(), &Publication{UserID: "u1", Type: "t", Title: "x"})
	if ErrorCode(err) != CodeUnavailable {
		t.Fatalf("publish with the store down: %v, want unavailable", err)
	}
	err = f.svc.SendEvent(context.Background(), &SystemEvent{UserID: "u1", Event: "deploy", Durable: true})
	if ErrorCode(err) != CodeUnavailable {
		t.Fatalf("durable event with the store down: %v, want unavailable", err)
	}
	if len(f.bus.offered) != 0 || f.obs.errors["store"] != 2 || f.obs.published["notification"] != 0 {
		t.Fatalf("bus offered %d, errors %v, published %v", len(f.bus.offered), f.obs.errors, f.obs.published)
	}
}

// TestServiceValidatesBeforeStoring: invalid input never reaches the store.
func TestServiceValidatesBeforeStoring(t *testing.T) {
	t.Parallel()
	f := newServiceFixture()
	ctx := context.Background()
	if _, err := f.svc.Publish(ctx, &Publication{UserID: "u\u2028", Type: "t", Title: "x"}); ErrorCode(err) != CodeInvalid {
		t.Fatalf("publish to a bad user id: %v", err)
	}
	if err := f.svc.SendEvent(ctx, &SystemEvent{UserID: "u", Event: "Error"}); ErrorCode(err) != CodeInvalid {
		t.Fatalf("event named Error: %v", err)
	}
	if len(f.store.saved) != 0 || len(f.bus.offered) != 0 {
		t.Fatal("invalid input was stored or rung")
	}
}
