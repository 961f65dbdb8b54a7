package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/testenv"
)

// Every Bus a test opens is closed by its cleanup, and go-redis's
// goroutines go with it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// instance is one Bus with a recording sink and a signal per subscription.
type instance struct {
	*Bus
	events chan []notify.Event
	subs   chan struct{}
}

// open builds a subscribed Bus on url and waits for its first subscription.
func open(t *testing.T, url string) *instance {
	t.Helper()
	in := &instance{events: make(chan []notify.Event, 1024), subs: make(chan struct{}, 16)}
	b, err := New(context.Background(), url, Options{OnSubscribe: func() { in.subs <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	in.Bus = b
	if err := b.Subscribe(func(evs []notify.Event) { in.events <- evs }); err != nil {
		t.Fatal(err)
	}
	in.waitSubscribed(t)
	return in
}

func (in *instance) waitSubscribed(t *testing.T) {
	t.Helper()
	select {
	case <-in.subs:
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription within 10s")
	}
}

// next returns the next batch the sink received.
func (in *instance) next(t *testing.T) []notify.Event {
	t.Helper()
	select {
	case evs := <-in.events:
		return evs
	case <-time.After(10 * time.Second):
		t.Fatal("nothing delivered within 10s")
		return nil
	}
}

func publish(t *testing.T, b *instance, evs ...notify.Event) {
	t.Helper()
	if err := b.Publish(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func TestEventsReachEveryInstanceInOrderOnce(t *testing.T) {
	t.Parallel()
	url := testenv.Redis(t)
	a, b, c := open(t, url), open(t, url), open(t, url)
	const n = 100
	for i := 1; i <= n; i++ {
		publish(t, a, notify.Event{UserID: "u", Seq: int64(i), Name: "notification", Data: json.RawMessage(`{}`)})
	}
	// b and c never publish and get everything, in order; a gets its own
	// events once (from Publish), not again as Redis echoes them.
	for _, in := range []*instance{a, b, c} {
		for i := 1; i <= n; i++ {
			if evs := in.next(t); len(evs) != 1 || evs[0].Seq != int64(i) {
				t.Fatalf("delivery %d: %+v, want Seq %d", i, evs, i)
			}
		}
	}
	// Redis delivers a's echoes to a before b's marker, which a publishes
	// after them: had a not skipped them, they would come first.
	publish(t, b, notify.Event{UserID: "u", Name: "marker", Data: json.RawMessage(`{}`)})
	if evs := a.next(t); evs[0].Name != "marker" {
		t.Fatalf("a received %+v before b's marker: its own echo", evs)
	}
}

func TestEventsSurviveTheTripByteExact(t *testing.T) {
	t.Parallel()
	url := testenv.Redis(t)
	a, b := open(t, url), open(t, url)
	want := sampleEvents()
	publish(t, a, want...)
	sameEvents(t, b.next(t), want)
}

func TestLargeBatchArrivesWholeAndInOrder(t *testing.T) {
	t.Parallel()
	url := testenv.Redis(t)
	a, b := open(t, url), open(t, url)
	data := json.RawMessage(`"` + strings.Repeat("y", 16<<10) + `"`)
	var want []notify.Event
	for i := range 300 { // about 5 MiB: several messages
		want = append(want, notify.Event{UserID: fmt.Sprint("u", i), Seq: int64(i + 1), Name: "notification", Data: data})
	}
	publish(t, a, want...)
	var got []notify.Event
	for len(got) < len(want) {
		got = append(got, b.next(t)...)
	}
	sameEvents(t, got, want)
}

func TestChannelsSeparateDeployments(t *testing.T) {
	t.Parallel()
	a, other := open(t, testenv.Redis(t)), open(t, testenv.Redis(t))
	if a.Channel() == other.Channel() {
		t.Fatalf("both on %s", a.Channel())
	}
	publish(t, a, notify.Event{UserID: "u", Seq: 1, Name: "notification", Data: json.RawMessage(`{}`)})
	publish(t, other, notify.Event{UserID: "u", Seq: 7, Name: "notification", Data: json.RawMessage(`{}`)})
	a.next(t)
	// other's own event comes first and alone: a's never reached it.
	if evs := other.next(t); evs[0].Seq != 7 {
		t.Fatalf("other deployment received %+v", evs)
	}
	select {
	case evs := <-other.events:
		t.Fatalf("other deployment received %+v", evs)
	default:
	}
}

func TestResubscribesAndSignalsAfterConnectionLoss(t *testing.T) {
	t.Parallel()
	url := testenv.Redis(t)
	proxy, via := testenv.RedisProxy(t, url)
	b := open(t, via) // subscribed through the proxy
	a := open(t, url)

	proxy.Cut() // the subscribed connection dies
	// Published while b is not subscribed: lost for b, which is why b
	// signals its resubscription (the hub then resyncs from the store).
	publish(t, a, notify.Event{UserID: "u", Seq: 1, Name: "notification", Data: json.RawMessage(`{}`)})
	proxy.Restore()
	b.waitSubscribed(t)

	publish(t, a, notify.Event{UserID: "u", Seq: 2, Name: "notification", Data: json.RawMessage(`{}`)})
	for {
		evs := b.next(t)
		if evs[0].Seq == 2 {
			break
		}
	}
}

func TestPublishWithRedisDownFailsButRingsLocally(t *testing.T) {
	t.Parallel()
	proxy, via := testenv.RedisProxy(t, testenv.Redis(t))
	b := open(t, via)
	proxy.Cut()
	ev := notify.Event{UserID: "u", Seq: 1, Name: "notification", Data: json.RawMessage(`{}`)}
	if err := b.Publish(context.Background(), []notify.Event{ev}); err == nil {
		t.Fatal("Publish succeeded with Redis unreachable")
	}
	sameEvents(t, b.next(t), []notify.Event{ev})
	if err := b.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeded with Redis unreachable")
	}
}

// blackhole accepts connections and never answers: a Redis that hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "redis://" + ln.Addr().String() + "/0"
}

func TestPublishToAHungRedisReturnsWithinTimeout(t *testing.T) {
	t.Parallel()
	url := blackhole(t)
	opts := Options{Timeout: 200 * time.Millisecond}
	if _, err := New(context.Background(), url, opts); err == nil {
		t.Fatal("New succeeded against a server that never answers")
	}
	b, err := newBus(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	done := make(chan error, 1)
	go func() { done <- b.Publish(context.Background(), sampleEvents()) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Publish succeeded against a server that never answers")
		}
	case <-time.After(10 * time.Second): // a hang, not a slow return
		t.Fatal("Publish still blocked after 10s with a 200ms timeout")
	}
}

func TestClosedBusRefusesEverything(t *testing.T) {
	t.Parallel()
	b := open(t, testenv.Redis(t))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Publish(ctx, sampleEvents()); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close = %v", err)
	}
	if err := b.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close = %v", err)
	}
	if err := b.Subscribe(func([]notify.Event) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, opt, channel, err string }{
		{url: "redis://127.0.0.1:6379/0", channel: "herald:events"},
		{url: "redis://127.0.0.1:6379/0", opt: "app", channel: "app:events"},
		{url: "redis://127.0.0.1:6379/3?channel=staging", opt: "app", channel: "staging:events"},
		{url: "redis://127.0.0.1:6379/0?channel=", err: "channel parameter"},
		{url: "redis://127.0.0.1:6379/0?bogus=1", err: "bogus"},
		{url: "redis://:s3cret@127.0.0.1:6379/x", err: "redis bus"},
	} {
		b, err := newBus(tc.url, Options{Channel: tc.opt})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: err %v, want one naming %q without the password", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if b.Channel() != tc.channel {
			t.Errorf("%s: channel %q, want %q", tc.url, b.Channel(), tc.channel)
		}
		_ = b.Close()
	}
}

// BenchmarkRoundTrip measures one Publish on one Bus until another Bus's
// sink has the event (a notification of about 300 bytes).
func BenchmarkRoundTrip(b *testing.B) {
	url := testenv.Redis(b)
	recv := make(chan []notify.Event, 1)
	bus := func(sink func([]notify.Event)) *Bus {
		subscribed := make(chan struct{}, 1)
		x, err := New(context.Background(), url, Options{OnSubscribe: func() { subscribed <- struct{}{} }})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = x.Close() })
		if err := x.Subscribe(sink); err != nil {
			b.Fatal(err)
		}
		<-subscribed
		return x
	}
	a := bus(func([]notify.Event) {})
	bus(func(evs []notify.Event) { recv <- evs })
	evs := []notify.Event{{UserID: "user-123456", Seq: 1, Name: "notification",
		Data: json.RawMessage(`{"id":"01jabcdefghjkmnpqrstvwxyz0","type":"comment","title":"New comment","message":"` +
			strings.Repeat("x", 200) + `","data":{"postId":42},"link":"/posts/42"}`), CreatedAt: time.Now()}}
	ctx := context.Background()
	for b.Loop() {
		if err := a.Publish(ctx, evs); err != nil {
			b.Fatal(err)
		}
		<-recv
	}
}

// TestPublisherThatMissedAsksOthersToResync: while a publisher cannot reach
// Redis, instances that stayed subscribed miss its events without any
// resubscription to tell them; its first successful publish afterwards
// asks them to catch up from the store. Meanwhile publishes fail fast.
func TestPublisherThatMissedAsksOthersToResync(t *testing.T) {
	t.Parallel()
	url := testenv.Redis(t)
	proxy, via := testenv.RedisProxy(t, url)
	a := open(t, via) // publishes through the proxy
	b := open(t, url) // stays subscribed throughout

	proxy.Cut()
	ev := func(seq int64) notify.Event {
		return notify.Event{UserID: "u", Seq: seq, Name: "notification", Data: json.RawMessage(`{}`)}
	}
	if err := a.Publish(context.Background(), []notify.Event{ev(1)}); err == nil {
		t.Fatal("Publish succeeded with Redis unreachable")
	}
	start := time.Now()
	if err := a.Publish(context.Background(), []notify.Event{ev(2)}); !errors.Is(err, errUnavailable) {
		t.Fatalf("second Publish during the outage: %v, want the fast failure", err)
	}
	if d := time.Since(start); d > a.timeout/2 {
		t.Logf("fast failure took %v", d) // informative only: no timed assertion
	}
	proxy.Restore()
	// The skip window ends after the timeout; then a publish goes through,
	// followed by the resync request.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := a.Publish(context.Background(), []notify.Event{ev(3)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish never recovered: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // waiting out the skip window; no signal exists
	}
	if evs := b.next(t); evs[0].Seq != 3 {
		t.Fatalf("b got seq %d, want 3", evs[0].Seq)
	}
	select {
	case <-b.subs:
	case <-time.After(10 * time.Second):
		t.Fatal("no resync request reached b")
	}
}

// TestForgedEventsFromRedisAreDropped publishes frames straight to the
// channel, as anything with access to Redis could: events whose name or
// user id could add a field to a stream, or fire a browser's own handlers,
// never reach the sink; the valid events of the same message do.
func TestForgedEventsFromRedisAreDropped(t *testing.T) {
	t.Parallel()
	url := testenv.Redis(t)
	b := open(t, url)
	raw, err := newBus(url, Options{}) // a client of the same channel, not subscribed
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := raw.Close(); err != nil {
			t.Error(err)
		}
	}()
	data := json.RawMessage(`{}`)
	valid := notify.Event{UserID: "u", Seq: 2, Name: "deploy", Data: data}
	// The end-streams control event (erase, import) crosses instances.
	control := notify.Event{UserID: "u", Name: notify.EventEndStreams, Data: json.RawMessage(`{"reason":"erased"}`)}
	forged := []notify.Event{
		{UserID: "u", Seq: 1, Name: "error", Data: data},
		{UserID: "u", Name: "Open", Data: data},
		{UserID: "u", Name: "message", Data: data},
		{UserID: "u", Name: notify.EventConnected, Data: data},
		{UserID: "u", Name: notify.EventLive, Data: data},
		{UserID: "u", Seq: 3, Name: notify.EventReset, Data: data},
		{UserID: "u", Name: "x\ndata: forged\n\nevent: notification", Data: data},
		{UserID: "u\nv", Seq: 1, Name: notify.EventNotification, Data: data},
		{UserID: "u\u202e", Seq: 1, Name: notify.EventNotification, Data: data},
		{UserID: "u", Seq: -1, Name: notify.EventNotification, Data: data},
		{UserID: "u", Seq: 4, Name: notify.EventEndStreams, Data: data}, // a durable control event is forged
	}
	foreign := [originLen]byte{9, 9, 9, 9, 9, 9, 9, 9}
	for _, msg := range encode(foreign, append(forged, valid, control)) {
		if err := raw.client.Publish(context.Background(), b.Channel(), msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range forged { // alone in a message: nothing at all reaches the sink
		if err := raw.client.Publish(context.Background(), b.Channel(), encode(foreign, []notify.Event{e})[0]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	marker := notify.Event{UserID: "u", Name: "marker", Data: data}
	if err := raw.client.Publish(context.Background(), b.Channel(), encode(foreign, []notify.Event{marker})[0]).Err(); err != nil {
		t.Fatal(err)
	}
	sameEvents(t, b.next(t), []notify.Event{valid, control})
	sameEvents(t, b.next(t), []notify.Event{marker})
}
