package hub

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/herald-notify/herald/internal/notify"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRegisterEnforcesLimitsWithoutEvicting(t *testing.T) {
	t.Parallel()
	h := New(Options{MaxConnsPerUser: 2, MaxConns: 3})
	a1, err := h.Register("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Register("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Register("a"); !errors.Is(err, ErrUserLimit) || notify.ErrorCode(err) != notify.CodeLimited {
		t.Fatalf("third connection for a: %v, want ErrUserLimit", err)
	}
	if _, err := h.Register("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Register("c"); !errors.Is(err, ErrGlobalLimit) || notify.ErrorCode(err) != notify.CodeUnavailable {
		t.Fatalf("fourth connection: %v, want ErrGlobalLimit", err)
	}
	select {
	case <-a1.Done():
		t.Fatal("an existing connection was evicted to admit a new one")
	default:
	}
	if h.Connections() != 3 || h.Users() != 2 || h.UserConnections("a") != 2 {
		t.Fatalf("stats = %d conns, %d users, %d for a", h.Connections(), h.Users(), h.UserConnections("a"))
	}
	h.Unregister(a1)
	h.Unregister(a1) // idempotent
	if h.Connections() != 2 || h.UserConnections("a") != 1 {
		t.Fatalf("after unregister: %d conns, %d for a", h.Connections(), h.UserConnections("a"))
	}
	if _, err := h.Register("c"); err != nil {
		t.Fatalf("a freed slot is reusable: %v", err)
	}
}

func TestSlowConsumerIsEvictedWithoutDelayingOthers(t *testing.T) {
	t.Parallel()
	h := New(Options{QueueSize: 8})
	slow, _ := h.Register("slow")
	fast, _ := h.Register("fast")
	received := 0
	for round := 0; round < 10; round++ {
		for i := 0; i < 5; i++ {
			h.Dispatch([]notify.Event{{UserID: notify.BroadcastStream, Seq: int64(round*5 + i + 1), Name: "x", Data: []byte("{}")}})
		}
		for len(fast.Queue()) > 0 {
			<-fast.Queue()
			received++
		}
	}
	if received != 50 {
		t.Fatalf("fast consumer received %d of 50", received)
	}
	select {
	case <-slow.Done():
		if slow.Reason() != ReasonSlow {
			t.Fatalf("slow ended with %q", slow.Reason())
		}
	default:
		t.Fatal("slow consumer with a full queue was not evicted")
	}
	select {
	case <-fast.Done():
		t.Fatal("fast consumer evicted")
	default:
	}
}

func TestDispatchReachesOnlyTheRecipient(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	a, _ := h.Register("a")
	b, _ := h.Register("b")
	h.Dispatch([]notify.Event{{UserID: "a", Seq: 1, Name: "notification", Data: []byte("{}")}})
	if len(a.Queue()) != 1 || len(b.Queue()) != 0 {
		t.Fatalf("queues: a=%d b=%d, want 1 and 0", len(a.Queue()), len(b.Queue()))
	}
	f := <-a.Queue()
	if string(f.Body) != "event: notification\ndata: {}\n\n" {
		t.Fatalf("body %q", f.Body)
	}
}

// An event that changed a count without carrying its share (sent by an
// instance of an earlier release) makes the hub read the shares from the
// store, at most once per interval per user.
func TestUncountedEventsRefreshSharesCoalescedPerUser(t *testing.T) {
	t.Parallel()
	h := New(Options{CountInterval: time.Hour})
	a, _ := h.Register("a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan string, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx, func(_ context.Context, u string) (notify.StreamState, error) {
			calls <- u
			return notify.StreamState{Unread: notify.UnreadShares{User: 5, Broadcast: 2}}, nil
		})
	}()
	for i := 1; i <= 3; i++ {
		h.Dispatch([]notify.Event{{UserID: "a", Seq: int64(i), Name: notify.EventNotification, Data: []byte("{}")}})
	}
	// One read for the first wake; the others wait for the (hour-long) pace.
	if u := <-calls; u != "a" {
		t.Fatalf("counted %q", u)
	}
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case f := <-a.Queue():
			if f.Shares != nil {
				got = true
				if *f.Shares != (notify.UnreadShares{User: 5, Broadcast: 2}) {
					t.Fatalf("shares %+v", *f.Shares)
				}
			}
		case <-deadline:
			t.Fatal("no shares frame")
		}
	}
	cancel()
	<-done
	if len(calls) != 0 {
		t.Fatalf("%d extra count queries inside one interval", len(calls))
	}
}

// Counted events carry the count: no store read at all, where an earlier
// release read the count after every event.
func TestCountedEventsNeedNoStoreRead(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := New(Options{CountInterval: time.Millisecond})
		if _, err := h.Register("a"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var reads atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.Run(ctx, func(context.Context, string) (notify.StreamState, error) {
				reads.Add(1)
				return notify.StreamState{}, nil
			})
		}()
		for i := 1; i <= 100; i++ {
			h.Dispatch([]notify.Event{
				{UserID: "a", Seq: int64(i), Name: notify.EventNotification, Data: []byte("{}"), Unread: int64(i), Counted: true},
				{UserID: notify.BroadcastStream, Seq: int64(i), Name: notify.EventNotification, Data: []byte("{}"), Unread: int64(i), Counted: true},
			})
			time.Sleep(10 * time.Millisecond) // fake time: the loop's pace passes
		}
		synctest.Wait()
		if n := reads.Load(); n != 0 {
			t.Fatalf("%d store reads for counted events, want 0", n)
		}
		h.Resync() // a bus that may have lost events: every local user is read once
		time.Sleep(time.Second)
		synctest.Wait()
		if n := reads.Load(); n != 1 {
			t.Fatalf("%d store reads after Resync, want 1", n)
		}
		cancel()
		<-done
	})
}

func TestDrainRefusesNewAndEndsOpenConnections(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	var conns []*Conn
	for i := 0; i < 20; i++ {
		c, _ := h.Register("u")
		conns = append(conns, c)
	}
	h.Drain(context.Background(), 50*time.Millisecond)
	for _, c := range conns {
		if c.Reason() != ReasonShutdown {
			t.Fatalf("reason %q", c.Reason())
		}
	}
	if _, err := h.Register("u"); !errors.Is(err, ErrDraining) {
		t.Fatalf("Register while draining: %v", err)
	}
}
