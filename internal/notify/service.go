package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Service is the domain's entry point for every adapter that changes state
// (the HTTP API, the queue consumer): it validates, stores, and only after
// the store has committed rings the bus. Safe for concurrent use.
type Service struct {
	store Store
	bus   Bus
	log   *slog.Logger
	obs   Observer
	ids   IDGen

	busWarned atomic.Int64 // unix ns of the last bus failure logged
	now       func() time.Time

	retention time.Duration // see Retain
	imports   chan struct{} // a token per import request in progress
}

// Observer receives the Service's measurements (internal/metrics implements
// it). Calls must be cheap and safe for concurrent use.
type Observer interface {
	// Published counts stored notifications ("notification") or sent system
	// events ("event").
	Published(kind string, n int)
	// PublishLatency records how long a publish took to commit.
	PublishLatency(d time.Duration)
	// Error counts a failure by the component at fault ("store", "bus").
	Error(kind string)
}

type nopObserver struct{}

func (nopObserver) Published(string, int)        {}
func (nopObserver) PublishLatency(time.Duration) {}
func (nopObserver) Error(string)                 {}

// NewService returns a Service over store and bus.
func NewService(store Store, bus Bus, log *slog.Logger) *Service {
	return &Service{store: store, bus: bus, log: log, obs: nopObserver{}, now: time.Now,
		imports: make(chan struct{}, MaxConcurrentImports)}
}

// Observe sets the observer of s's measurements; call it before use.
func (s *Service) Observe(o Observer) *Service {
	s.obs = o
	return s
}

// Publish validates p, stores one notification per recipient (or one
// broadcast) and pushes the new events to the bus. Nothing is acknowledged
// before it is durably stored: on error, nothing was published, or (for a
// store that lost its connection mid-commit) the caller may retry with the
// same idempotency key.
func (s *Service) Publish(ctx context.Context, p *Publication) ([]Receipt, error) {
	receipts, _, err := s.PublishOnce(ctx, p)
	return receipts, err
}

// PublishOnce is Publish that also reports whether p repeated an
// idempotency key seen within IdempotencyWindow, in which case nothing was
// stored or sent and the receipts are the original ones.
func (s *Service) PublishOnce(ctx context.Context, p *Publication) ([]Receipt, bool, error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	base := Notification{
		Type: p.Type, Title: p.Title, Message: p.Message, Data: p.Data,
		Link: p.Link, CreatedAt: now, CollapseKey: p.CollapseKey,
	}
	var ns []Notification
	if p.Broadcast {
		n := base
		n.ID, n.UserID = s.ids.New(now), BroadcastStream
		ns = append(ns, n)
	} else {
		for _, u := range p.Recipients() {
			n := base
			n.ID, n.UserID = s.ids.New(now), u
			ns = append(ns, n)
		}
	}
	start := time.Now()
	out, err := s.store.Publish(ctx, PublishInput{
		Notifications: ns, IdempotencyKey: p.IdempotencyKey, CollapseKey: p.CollapseKey,
	})
	if err != nil {
		s.obs.Error("store")
		return nil, false, fmt.Errorf("publish: %w", err)
	}
	s.obs.PublishLatency(time.Since(start))
	if !out.Duplicate {
		s.obs.Published("notification", len(out.Receipts))
		s.ring(ctx, out.Events)
	}
	return out.Receipts, out.Duplicate, nil
}

// SendEvent validates e and sends it to its recipients' streams: stored
// first when e.Durable, straight to the bus otherwise.
func (s *Service) SendEvent(ctx context.Context, e *SystemEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var evs []Event
	if e.Broadcast {
		evs = append(evs, Event{UserID: BroadcastStream, Name: e.Event, Data: e.Data, CreatedAt: now})
	}
	for _, u := range e.Recipients() {
		evs = append(evs, Event{UserID: u, Name: e.Event, Data: e.Data, CreatedAt: now})
	}
	if e.Durable {
		stored, err := s.store.AppendEvents(ctx, evs)
		if err != nil {
			s.obs.Error("store")
			return fmt.Errorf("append events: %w", err)
		}
		evs = stored
	}
	s.obs.Published("event", len(evs))
	s.ring(ctx, evs)
	return nil
}

// List returns a page of the user's inbox.
func (s *Service) List(ctx context.Context, userID string, q ListQuery) (Page, error) {
	return s.store.List(ctx, userID, q)
}

// UnreadCount returns the user's unread count.
func (s *Service) UnreadCount(ctx context.Context, userID string) (int, error) {
	return s.store.UnreadCount(ctx, userID)
}

// MarkRead marks one notification read and tells the user's streams.
func (s *Service) MarkRead(ctx context.Context, userID, id string) error {
	ev, err := s.store.MarkRead(ctx, userID, id)
	if err != nil {
		return err
	}
	s.ringOne(ctx, ev)
	return nil
}

// MarkAllRead marks the whole inbox read and tells the user's streams.
func (s *Service) MarkAllRead(ctx context.Context, userID string) (int, error) {
	n, ev, err := s.store.MarkAllRead(ctx, userID)
	if err != nil {
		return 0, err
	}
	s.ringOne(ctx, ev)
	return n, nil
}

// Delete removes one notification from the inbox and tells the user's streams.
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	ev, err := s.store.Delete(ctx, userID, id)
	if err != nil {
		return err
	}
	s.ringOne(ctx, ev)
	return nil
}

func (s *Service) ringOne(ctx context.Context, ev *Event) {
	if ev != nil {
		s.ring(ctx, []Event{*ev})
	}
}

// ring hands committed events to the bus. A failure loses nothing: durable
// events are recovered from the store by gap detection or on reconnect.
func (s *Service) ring(ctx context.Context, evs []Event) {
	if len(evs) == 0 {
		return
	}
	// The request may be cancelled right after the commit; the doorbell
	// should still ring.
	if err := s.bus.Publish(context.WithoutCancel(ctx), evs); err != nil {
		s.obs.Error("bus")
		// At most one line a second: an outage fails every publish.
		now := time.Now().UnixNano()
		if last := s.busWarned.Load(); now-last >= int64(time.Second) && s.busWarned.CompareAndSwap(last, now) {
			s.log.Warn("bus publish failed; streams will catch up from the store (counted in herald_errors_total{kind=\"bus\"})",
				"events", len(evs), "err", err)
		}
	}
}

// NotificationEventData returns the data of the notification event for n.
func NotificationEventData(n Notification) (json.RawMessage, error) {
	return json.Marshal(n)
}
