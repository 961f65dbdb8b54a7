package metrics

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/herald-notify/herald/internal/hub"
)

// newTest returns a Metrics on a fresh registry.
func newTest(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return New(reg, "test-1"), reg
}

// family gathers reg and returns the family called name.
func family(t *testing.T, reg prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("no metric family %q", name)
	return nil
}

// histogram returns the single histogram of family name.
func histogram(t *testing.T, reg prometheus.Gatherer, name string) *dto.Histogram {
	t.Helper()
	mf := family(t, reg, name)
	if len(mf.GetMetric()) != 1 {
		t.Fatalf("%s: %d series, want 1", name, len(mf.GetMetric()))
	}
	return mf.GetMetric()[0].GetHistogram()
}

// cumulative returns the cumulative count of h's bucket with upper bound le.
func cumulative(t *testing.T, h *dto.Histogram, le float64) uint64 {
	t.Helper()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	t.Fatalf("no bucket le=%v", le)
	return 0
}

func assertValue(t *testing.T, what string, c prometheus.Collector, want float64) {
	t.Helper()
	if got := testutil.ToFloat64(c); got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestConnectedDisconnected(t *testing.T) {
	t.Parallel()
	m, reg := newTest(t)
	m.Connected(1)
	m.Connected(2)
	m.Connected(7)
	m.Disconnected()

	assertValue(t, "connections", m.connections, 2)
	assertValue(t, "connections_total", m.connects, 3)
	assertValue(t, "disconnections_total", m.disconnects, 1)

	h := histogram(t, reg, "herald_connections_per_user")
	if h.GetSampleCount() != 3 || h.GetSampleSum() != 10 {
		t.Errorf("per_user count=%d sum=%v, want 3 and 10", h.GetSampleCount(), h.GetSampleSum())
	}
	for le, want := range map[float64]uint64{1: 1, 2: 2, 5: 2, 10: 3, 50: 3} {
		if got := cumulative(t, h, le); got != want {
			t.Errorf("per_user le=%v: %d, want %d", le, got, want)
		}
	}
	if n := len(h.GetBucket()); n != len(perUserBuckets) {
		t.Errorf("per_user has %d buckets, want %d", n, len(perUserBuckets))
	}
}

func TestRejectedAndEvicted(t *testing.T) {
	t.Parallel()
	m, _ := newTest(t)
	m.Rejected("user_limit")
	m.Rejected("user_limit")
	m.Rejected("draining")
	m.Evicted(hub.ReasonSlow)
	m.Evicted(hub.ReasonSlow)
	m.Evicted(hub.ReasonSlow)
	m.Evicted(hub.ReasonExpired)

	rej := m.rejected.vec
	assertValue(t, "rejected{user_limit}", rej.WithLabelValues("user_limit"), 2)
	assertValue(t, "rejected{draining}", rej.WithLabelValues("draining"), 1)
	assertValue(t, "rejected{global_limit}", rej.WithLabelValues("global_limit"), 0)

	ev := m.evicted.vec
	assertValue(t, "evictions{slow_consumer}", ev.WithLabelValues("slow_consumer"), 3)
	assertValue(t, "evictions{token_expired}", ev.WithLabelValues("token_expired"), 1)
	assertValue(t, "evictions{shutdown}", ev.WithLabelValues("shutdown"), 0)
}

// Known label values are exported at 0 before they first occur, so that
// rate() over them works from the start; unknown ones are still counted.
func TestLabelValues(t *testing.T) {
	t.Parallel()
	m, _ := newTest(t)
	for _, tc := range []struct {
		name string
		vec  *prometheus.CounterVec
		want int
	}{
		{"rejected", m.rejected.vec, len(rejectReasons)},
		{"evicted", m.evicted.vec, len(evictReasons)},
		{"published", m.published.vec, len(publishKinds)},
		{"errors", m.errors.vec, len(errorKinds)},
		{"queue_messages", m.queueMessages.vec, len(queueOutcomes)},
	} {
		if got := testutil.CollectAndCount(tc.vec); got != tc.want {
			t.Errorf("%s: %d series before use, want %d", tc.name, got, tc.want)
		}
	}

	m.Rejected("maintenance")
	m.Evicted(hub.ReasonClosed)
	m.Error("auth")
	assertValue(t, "rejected{maintenance}", m.rejected.vec.WithLabelValues("maintenance"), 1)
	assertValue(t, "evictions{closed}", m.evicted.vec.WithLabelValues("closed"), 1)
	assertValue(t, "errors{auth}", m.errors.vec.WithLabelValues("auth"), 1)
	if got := testutil.CollectAndCount(m.errors.vec); got != len(errorKinds)+1 {
		t.Errorf("errors: %d series, want %d", got, len(errorKinds)+1)
	}
}

func TestDeliveredAndReplayed(t *testing.T) {
	t.Parallel()
	m, reg := newTest(t)
	m.Delivered(1, 3*time.Millisecond)
	m.Delivered(4, 2*time.Second)
	m.Delivered(1, -time.Second) // clock skew: counts as zero
	m.Replayed(10)
	m.Replayed(0)

	assertValue(t, "events_delivered_total", m.delivered, 6)
	assertValue(t, "events_replayed_total", m.replayed, 10)

	h := histogram(t, reg, "herald_delivery_latency_seconds")
	if h.GetSampleCount() != 3 {
		t.Errorf("latency count = %d, want 3 (one per call)", h.GetSampleCount())
	}
	if math.Abs(h.GetSampleSum()-2.003) > 1e-9 {
		t.Errorf("latency sum = %v, want 2.003", h.GetSampleSum())
	}
	if got := cumulative(t, h, .0005); got != 1 {
		t.Errorf("latency le=0.0005: %d, want 1 (the clamped one)", got)
	}
	if got := cumulative(t, h, .005); got != 2 {
		t.Errorf("latency le=0.005: %d, want 2", got)
	}
	if got := cumulative(t, h, 2.5); got != 3 {
		t.Errorf("latency le=2.5: %d, want 3", got)
	}
}

// A counter cannot go down: non-positive counts are ignored, not a panic.
func TestNonPositiveCountsIgnored(t *testing.T) {
	t.Parallel()
	m, reg := newTest(t)
	m.Delivered(0, time.Millisecond)
	m.Delivered(-2, time.Millisecond)
	m.Replayed(-1)
	m.Published("event", -3)
	m.QueueMessages("processed", 0)

	assertValue(t, "events_delivered_total", m.delivered, 0)
	assertValue(t, "events_replayed_total", m.replayed, 0)
	assertValue(t, "published{event}", m.published.vec.WithLabelValues("event"), 0)
	assertValue(t, "queue_messages{processed}", m.queueMessages.vec.WithLabelValues("processed"), 0)
	if n := histogram(t, reg, "herald_delivery_latency_seconds").GetSampleCount(); n != 0 {
		t.Errorf("latency observed %d times for empty deliveries, want 0", n)
	}
}

func TestPublishErrorsQueue(t *testing.T) {
	t.Parallel()
	m, reg := newTest(t)
	m.Published("notification", 3)
	m.Published("event", 1)
	m.PublishLatency(4 * time.Millisecond)
	m.PublishLatency(40 * time.Millisecond)
	m.Error("store")
	m.Error("store")
	m.Error("bus")
	m.QueueLag(1500 * time.Millisecond)
	m.QueueMessages("processed", 9)
	m.QueueMessages("dead_lettered", 1)

	assertValue(t, "published{notification}", m.published.vec.WithLabelValues("notification"), 3)
	assertValue(t, "published{event}", m.published.vec.WithLabelValues("event"), 1)
	assertValue(t, "errors{store}", m.errors.vec.WithLabelValues("store"), 2)
	assertValue(t, "errors{bus}", m.errors.vec.WithLabelValues("bus"), 1)
	assertValue(t, "errors{queue}", m.errors.vec.WithLabelValues("queue"), 0)
	assertValue(t, "queue_lag_seconds", m.queueLag, 1.5)
	assertValue(t, "queue_messages{processed}", m.queueMessages.vec.WithLabelValues("processed"), 9)
	assertValue(t, "queue_messages{dead_lettered}", m.queueMessages.vec.WithLabelValues("dead_lettered"), 1)
	assertValue(t, "queue_messages{retried}", m.queueMessages.vec.WithLabelValues("retried"), 0)

	h := histogram(t, reg, "herald_publish_duration_seconds")
	if h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-0.044) > 1e-9 {
		t.Errorf("publish duration count=%d sum=%v, want 2 and 0.044", h.GetSampleCount(), h.GetSampleSum())
	}
	if got := cumulative(t, h, .005); got != 1 {
		t.Errorf("publish duration le=0.005: %d, want 1", got)
	}

	m.QueueLag(-time.Second) // a message stamped in the future
	assertValue(t, "queue_lag_seconds after skew", m.queueLag, 0)
	m.QueueLag(200 * time.Millisecond)
	assertValue(t, "queue_lag_seconds is the last value", m.queueLag, 0.2)
}

func TestInstanceInfo(t *testing.T) {
	t.Parallel()
	_, reg := newTest(t)
	mf := family(t, reg, "herald_instance_info")
	if len(mf.GetMetric()) != 1 {
		t.Fatalf("%d series, want 1", len(mf.GetMetric()))
	}
	got := mf.GetMetric()[0]
	if l := got.GetLabel(); len(l) != 1 || l[0].GetName() != "instance_id" || l[0].GetValue() != "test-1" {
		t.Errorf("labels = %v, want instance_id=test-1", l)
	}
	if v := got.GetGauge().GetValue(); v != 1 {
		t.Errorf("value = %v, want 1", v)
	}

	empty := prometheus.NewRegistry()
	New(empty, "")
	mfs, err := empty.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "herald_instance_info" {
			t.Error("herald_instance_info exported without an instance id")
		}
	}
}

// Every family has a herald_ name and a real Help string.
func TestHelp(t *testing.T) {
	t.Parallel()
	_, reg := newTest(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != len(metricNames)+1 { // + herald_instance_info
		t.Errorf("%d families, want %d", len(mfs), len(metricNames)+1)
	}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "herald_") {
			t.Errorf("%s: not prefixed herald_", mf.GetName())
		}
		if len(mf.GetHelp()) < 20 {
			t.Errorf("%s: help %q is too short", mf.GetName(), mf.GetHelp())
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

// No globals: two Metrics on two registries count independently.
func TestIndependentRegistries(t *testing.T) {
	t.Parallel()
	a, regA := newTest(t)
	b, regB := newTest(t)
	a.Connected(1)
	a.Delivered(2, time.Millisecond)
	b.Delivered(5, time.Millisecond)

	assertValue(t, "a connections", a.connections, 1)
	assertValue(t, "b connections", b.connections, 0)
	assertValue(t, "a delivered", a.delivered, 2)
	assertValue(t, "b delivered", b.delivered, 5)
	if n := histogram(t, regA, "herald_delivery_latency_seconds").GetSampleCount(); n != 1 {
		t.Errorf("a latency count = %d, want 1", n)
	}
	if n := histogram(t, regB, "herald_connections_per_user").GetSampleCount(); n != 0 {
		t.Errorf("b per_user count = %d, want 0", n)
	}
}

// A second New on the same registry shares the first's collectors rather
// than panicking.
func TestNewTwiceOnOneRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := New(reg, "x")
	b := New(reg, "x")
	a.Evicted(hub.ReasonGap)
	b.Evicted(hub.ReasonGap)
	assertValue(t, "evictions{gap}", b.evicted.vec.WithLabelValues("gap"), 2)
}

func TestNilRegisterer(t *testing.T) {
	t.Parallel()
	m := New(nil, "x")
	m.Connected(1)
	assertValue(t, "connections", m.connections, 1)
}

func TestClashPanics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_connections", Help: "a different collector under our name",
	}))
	defer func() {
		if recover() == nil {
			t.Error("New did not panic on a name clash")
		}
	}()
	New(reg, "x")
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	m, reg := newTest(t)
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				m.Connected(i%5 + 1)
				m.Rejected("user_limit")
				m.Rejected("other")
				m.Evicted(hub.ReasonSlow)
				m.Delivered(1, time.Duration(i)*time.Microsecond)
				m.Replayed(2)
				m.Published("event", 1)
				m.PublishLatency(time.Millisecond)
				m.Error("store")
				m.QueueLag(time.Duration(w) * time.Second)
				m.QueueMessages("processed", 3)
				m.Disconnected()
				if i%50 == 0 {
					if _, err := reg.Gather(); err != nil {
						t.Errorf("gather: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()

	const n = workers * rounds
	assertValue(t, "connections", m.connections, 0)
	assertValue(t, "connections_total", m.connects, n)
	assertValue(t, "disconnections_total", m.disconnects, n)
	assertValue(t, "rejected{user_limit}", m.rejected.vec.WithLabelValues("user_limit"), n)
	assertValue(t, "rejected{other}", m.rejected.vec.WithLabelValues("other"), n)
	assertValue(t, "evictions{slow_consumer}", m.evicted.vec.WithLabelValues("slow_consumer"), n)
	assertValue(t, "delivered", m.delivered, n)
	assertValue(t, "replayed", m.replayed, 2*n)
	assertValue(t, "published{event}", m.published.vec.WithLabelValues("event"), n)
	assertValue(t, "errors{store}", m.errors.vec.WithLabelValues("store"), n)
	assertValue(t, "queue_messages{processed}", m.queueMessages.vec.WithLabelValues("processed"), 3*n)
	if c := histogram(t, reg, "herald_delivery_latency_seconds").GetSampleCount(); c != n {
		t.Errorf("latency count = %d, want %d", c, n)
	}
}

// The per-event methods must not allocate. AllocsPerRun counts, it does
// not time. Not parallel: the allocation count is process-wide, and
// parallel tests only start once the sequential ones are done.
func TestHotPathDoesNotAllocate(t *testing.T) {
	m, _ := newTest(t)
	for name, f := range map[string]func(){
		"Delivered":    func() { m.Delivered(1, time.Millisecond) },
		"Connected":    func() { m.Connected(2) },
		"Disconnected": m.Disconnected,
		"Evicted":      func() { m.Evicted(hub.ReasonSlow) },
		"Rejected":     func() { m.Rejected("global_limit") },
		"Replayed":     func() { m.Replayed(3) },
		"Published":    func() { m.Published("event", 1) },
		"Error":        func() { m.Error("bus") },
		"QueueMessage": func() { m.QueueMessages("retried", 1) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocs per call, want 0", name, a)
		}
	}
}
