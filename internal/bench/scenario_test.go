package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/app"
	"github.com/herald-notify/herald/internal/config"
)

const (
	testSecret = "bench-test-secret-that-is-at-least-32-bytes"
	testKey    = "bench-publisher-key-0123456789"
)

// startServer runs Herald in process on a fresh SQLite file and returns
// its base URL; it is stopped at cleanup.
func startServer(t *testing.T) string {
	t.Helper()
	env := map[string]string{
		"HERALD_ADDR":          "127.0.0.1:0",
		"HERALD_DB":            "sqlite://" + filepath.Join(t.TempDir(), "herald.db"),
		"HERALD_JWT_SECRET":    testSecret,
		"HERALD_PUBLISHER_KEY": testKey,
		"HERALD_DRAIN_TIMEOUT": "0s",
		"HERALD_LOG_LEVEL":     "error",
	}
	cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		_ = a.Close()
	})
	return "http://" + a.Addr()
}

func target(url string) Target {
	return Target{
		URL: url, Secret: []byte(testSecret), Key: testKey,
		// Two sources exercise the cycling dialer.
		Sources: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.1")},
	}
}

func TestIdleEndToEnd(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	res, err := Idle(t.Context(), IdleOptions{
		Target: target(url), Conns: 20, Users: 5, PID: os.Getpid(), Settle: 10 * time.Millisecond,
		After: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 20 || res.Failed != 0 || res.Dropped != 0 {
		t.Fatalf("connected %d, failed %d (%s), dropped %d; want 20, 0, 0", res.Connected, res.Failed, res.FirstError, res.Dropped)
	}
	if res.RSSBefore <= 0 || res.RSSAfter <= 0 || res.RSSLeft <= 0 {
		t.Errorf("rss before %d, after %d, after all left %d: not read", res.RSSBefore, res.RSSAfter, res.RSSLeft)
	}
	if res.IdleCPU < 0 {
		t.Errorf("idle cpu %v: not read", res.IdleCPU)
	}
	// The server runs in this process: its goroutines are counted; each
	// stream holds at least one server goroutine.
	if res.GoroutinesPre < 0 || res.GoroutinesPer < 1 {
		t.Errorf("goroutines %d → %d (%.2f per conn): want at least one per stream", res.GoroutinesPre, res.GoroutinesPost, res.GoroutinesPer)
	}
	// Parallel tests share the heap, so only that it was read is checked.
	if res.HeapPerConn == 0 || res.StackPerConn == 0 {
		t.Errorf("heap %.0f, stack %.0f per connection: not read", res.HeapPerConn, res.StackPerConn)
	}
	if res.ConnectLatency.Count != 20 {
		t.Errorf("connect latency samples %d, want 20", res.ConnectLatency.Count)
	}
	checkReport(t, res, "RSS per connection")
}

func TestIdleRefusesMoreUsersThanConns(t *testing.T) {
	t.Parallel()
	_, err := Idle(t.Context(), IdleOptions{Target: target("http://127.0.0.1:1"), Conns: 2, Users: 3})
	if err == nil || !strings.Contains(err.Error(), "users") {
		t.Fatalf("Idle = %v, want a users error", err)
	}
}

func TestLatencyEndToEnd(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	res, err := Latency(t.Context(), LatencyOptions{
		Target: target(url), Conns: 20, Rate: 100, Duration: time.Second, Publishers: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scheduled != 100 || res.Sent != 100 || res.Acked != 100 {
		t.Fatalf("scheduled %d sent %d acked %d, want 100 each (first error %q)", res.Scheduled, res.Sent, res.Acked, res.FirstError)
	}
	if res.Received != 100 || res.Lost != 0 || res.Duplicates != 0 || res.Misrouted != 0 {
		t.Fatalf("received %d lost %d duplicates %d misrouted %d, want 100, 0, 0, 0",
			res.Received, res.Lost, res.Duplicates, res.Misrouted)
	}
	if res.Delivery.Count != 100 || res.Publish.Count != 100 {
		t.Fatalf("latency samples: delivery %d publish %d, want 100", res.Delivery.Count, res.Publish.Count)
	}
	if res.Delivery.P50 <= 0 || res.Delivery.Max < res.Delivery.P99 {
		t.Fatalf("delivery latency %+v: not plausible", res.Delivery)
	}
	checkReport(t, res, "delivery latency")
}

// TestLatencyAccounting checks the tally of a run: what was acknowledged
// and never received is lost, a second receipt is a duplicate, and a
// receipt of an unacknowledged notification still counts as received.
func TestLatencyAccounting(t *testing.T) {
	t.Parallel()
	r := &latencyRun{opts: LatencyOptions{Conns: 2}, acked: make([]atomic.Bool, 5), recv: make([]atomic.Uint32, 5)}
	for _, i := range []int{0, 1, 2, 3} {
		r.acked[i].Store(true)
	}
	r.recv[0].Store(1)
	r.recv[1].Store(3) // two duplicates
	r.recv[4].Store(1) // its 202 was lost, the notification was not
	if got := r.missing(); got != 2 {
		t.Fatalf("missing %d, want 2 (seq 2 and 3)", got)
	}
	res := r.result(1)
	if res.Acked != 4 || res.Received != 3 || res.Lost != 2 || res.Duplicates != 2 {
		t.Fatalf("acked %d received %d lost %d duplicates %d, want 4, 3, 2, 2", res.Acked, res.Received, res.Lost, res.Duplicates)
	}
}

func TestPublishEndToEnd(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	res, err := Publish(t.Context(), PublishOptions{
		Target: target(url), Concurrency: []int{1, 4}, Duration: 300 * time.Millisecond, Users: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Levels) != 2 {
		t.Fatalf("%d levels, want 2", len(res.Levels))
	}
	for _, l := range res.Levels {
		if l.Acked == 0 || l.Errors != 0 || l.AckedPerSecond <= 0 || l.Latency.Count != uint64(l.Acked) {
			t.Errorf("level %d: acked %d errors %d (%s) rate %.0f samples %d", l.Concurrency, l.Acked, l.Errors, l.FirstError, l.AckedPerSecond, l.Latency.Count)
		}
	}
	checkReport(t, res, "concurrency")
}

func TestPublishCountsRefusals(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	tg := target(url)
	tg.Key = "not-the-publisher-key-at-all"
	res, err := Publish(t.Context(), PublishOptions{Target: tg, Concurrency: []int{2}, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Levels[0]
	if l.Acked != 0 || l.Errors == 0 || !strings.Contains(l.FirstError, "401") {
		t.Fatalf("acked %d errors %d first %q: want refusals counted with their status", l.Acked, l.Errors, l.FirstError)
	}
}

// checkReport checks that the result renders as text containing want and
// round-trips through JSON.
func checkReport(t *testing.T, res interface{ WriteText(io.Writer) error }, want string) {
	t.Helper()
	var b bytes.Buffer
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, b.String())
	}
	j, err := json.Marshal(res)
	if err != nil || !json.Valid(j) {
		t.Errorf("json: %v", err)
	}
}

func TestSweepEndToEnd(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	res, err := Sweep(t.Context(), SweepOptions{
		LatencyOptions: LatencyOptions{Target: target(url), Conns: 10, Duration: 500 * time.Millisecond, Publishers: 4, PID: os.Getpid()},
		Rates:          []float64{20, 60},
		Pause:          10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 2 {
		t.Fatalf("%d steps, want 2", len(res.Steps))
	}
	for i, want := range []int64{10, 30} {
		s := res.Steps[i]
		if s.Acked != want || s.Received != want || s.Lost != 0 || s.Misrouted != 0 {
			t.Fatalf("step %d: acked %d received %d lost %d misrouted %d, want %d each and none lost",
				i, s.Acked, s.Received, s.Lost, s.Misrouted, want)
		}
		if s.ServerCPU < 0 || s.CPUPerDelivery < 0 {
			t.Errorf("step %d: server cpu %v (%v per delivery): not measured", i, s.ServerCPU, s.CPUPerDelivery)
		}
	}
	checkReport(t, res, "best rate")
	var svg bytes.Buffer
	if err := res.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	if s := svg.String(); !strings.HasPrefix(s, "<svg") || strings.Count(s, "<polyline") != 4 || !strings.Contains(s, "delivery p99") {
		t.Errorf("chart is not the two panels expected:\n%.400s", s)
	}
}

func TestBroadcastEndToEnd(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	res, err := Broadcast(t.Context(), BroadcastOptions{
		Target: target(url), Conns: 15, Count: 3, Interval: 20 * time.Millisecond, PID: os.Getpid(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Acked != 3 || res.Expected != 45 || res.Received != 45 || res.Lost != 0 || res.Duplicates != 0 {
		t.Fatalf("acked %d expected %d received %d lost %d duplicates %d (first error %q); want 3, 45, 45, 0, 0",
			res.Acked, res.Expected, res.Received, res.Lost, res.Duplicates, res.FirstError)
	}
	if res.Delivery.Count != 45 || res.CPUPerDelivery < 0 {
		t.Fatalf("delivery samples %d, cpu per delivery %v", res.Delivery.Count, res.CPUPerDelivery)
	}
	checkReport(t, res, "deliveries")
}

func TestBestRate(t *testing.T) {
	t.Parallel()
	step := func(rate float64, lost, errs int64, p99 float64) *LatencyResult {
		return &LatencyResult{Rate: rate, Lost: lost, PublishErrors: errs, Delivery: Summary{P99: p99}}
	}
	steps := []*LatencyResult{
		step(1000, 0, 0, 5), step(2000, 0, 0, 99.9), step(3000, 0, 0, 100), // p99 at the limit: out
		step(4000, 1, 0, 5), step(5000, 0, 2, 5), // a loss, a publish error: out
	}
	if got := bestRate(steps); got != 2000 {
		t.Fatalf("bestRate = %v, want 2000", got)
	}
	if got := bestRate(steps[2:]); got != 0 {
		t.Fatalf("bestRate with no good step = %v, want 0", got)
	}
}
