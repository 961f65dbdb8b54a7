// Package metrics is Herald's Prometheus instrumentation: the hub's
// hub.Metrics and the counters the publish path and the queue consumer
// report to. Collectors live on a *Metrics registered on a caller-supplied
// prometheus.Registerer; nothing is global, so any number of instances can
// coexist in one process (tests, end-to-end runs).
//
// See docs/metrics.md for the list of series and example queries.
package metrics

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-notify/herald/internal/hub"
)

// Label values known in advance. They are resolved to their series once, in
// New, so that counting them does no look-up or allocation.
var (
	rejectReasons = []string{"user_limit", "global_limit", "draining"}
	evictReasons  = []string{
		string(hub.ReasonSlow), string(hub.ReasonShutdown), string(hub.ReasonExpired),
		string(hub.ReasonGap), string(hub.ReasonError), string(hub.ReasonErased), string(hub.ReasonImported),
	}
	publishKinds  = []string{"notification", "event"}
	errorKinds    = []string{"store", "bus", "queue", "internal"}
	queueOutcomes = []string{"processed", "duplicate", "dead_lettered", "retried"}
)

// Histogram buckets, in the unit of the observation.
var (
	// perUserBuckets are connection counts.
	perUserBuckets = []float64{1, 2, 3, 5, 10, 20, 50}
	// deliveryBuckets span 0.5 ms to 5 s, dense under 50 ms where a healthy
	// server delivers.
	deliveryBuckets = []float64{
		.0005, .001, .002, .003, .005, .0075, .01, .015, .02, .03, .05,
		.1, .25, .5, 1, 2.5, 5,
	}
	// publishBuckets span 0.5 ms to 5 s: a store commit, local SQLite to a
	// remote Postgres under load.
	publishBuckets = []float64{
		.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5,
	}
)

// Metrics holds Herald's collectors. Create it with New. All methods are
// safe for concurrent use; the per-event ones (Connected, Disconnected,
// Evicted, Delivered, Replayed, and the others with a known label value) do
// not allocate.
//
// Counts given as int are ignored when not positive: a counter never goes
// down. Negative durations (clock skew between instances) count as zero.
type Metrics struct {
	connections     prometheus.Gauge
	connsPerUser    prometheus.Histogram
	connects        prometheus.Counter
	disconnects     prometheus.Counter
	rejected        labeledCounter
	evicted         labeledCounter
	delivered       prometheus.Counter
	deliveryLatency prometheus.Histogram
	replayed        prometheus.Counter

	published      labeledCounter
	publishLatency prometheus.Histogram
	errors         labeledCounter
	queueLag       prometheus.Gauge
	queueMessages  labeledCounter
}

var _ hub.Metrics = (*Metrics)(nil)

// New creates Herald's collectors and registers them on reg. instance is
// this process's id (config InstanceID); when not empty it is exported as
// herald_instance_info{instance_id="…"} 1, to be joined on the scrape's
// instance label. A nil reg leaves the collectors unregistered: they count
// but nothing exports them.
//
// Calling New twice on one registry is allowed: the second *Metrics shares
// the collectors of the first. New panics, as prometheus.MustRegister does,
// only if reg refuses a collector for another reason — a name clash with
// some other collector, a programming error.
func New(reg prometheus.Registerer, instance string) *Metrics {
	r := registrar{reg: reg}
	m := &Metrics{
		connections: register(r, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_connections",
			Help: "Open SSE connections on this instance.",
		})),
		connsPerUser: register(r, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_connections_per_user",
			Help:    "A user's number of SSE connections on this instance, observed each time one of them connects.",
			Buckets: perUserBuckets,
		})),
		connects: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_connections_total",
			Help: "SSE connections accepted.",
		})),
		disconnects: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_disconnections_total",
			Help: "SSE connections that ended, for any reason (evictions included).",
		})),
		rejected: newLabeledCounter(register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_connections_rejected_total",
			Help: "SSE connections refused, by reason: user_limit, global_limit, draining.",
		}, []string{"reason"})), rejectReasons...),
		evicted: newLabeledCounter(register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_evictions_total",
			Help: "SSE connections ended by the server, by reason: slow_consumer, shutdown, token_expired, gap, error, erased, imported.",
		}, []string{"reason"})), evictReasons...),
		delivered: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_events_delivered_total",
			Help: "Live events written to SSE streams.",
		})),
		deliveryLatency: register(r, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_delivery_latency_seconds",
			Help:    "Time from an event's publication to its write on an SSE stream, for live events.",
			Buckets: deliveryBuckets,
		})),
		replayed: register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_events_replayed_total",
			Help: "Events written to SSE streams from the store, on resume or gap repair.",
		})),
		published: newLabeledCounter(register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_published_total",
			Help: "Items published, by kind: notification, event.",
		}, []string{"kind"})), publishKinds...),
		publishLatency: register(r, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_publish_duration_seconds",
			Help:    "Time to commit a publish to the store, as seen by the publisher.",
			Buckets: publishBuckets,
		})),
		errors: newLabeledCounter(register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_errors_total",
			Help: "Errors by kind: store, bus, queue, internal.",
		}, []string{"kind"})), errorKinds...),
		queueLag: register(r, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_queue_lag_seconds",
			Help: "Age of the oldest message in the last batch received from the ingestion queue.",
		})),
		queueMessages: newLabeledCounter(register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_queue_messages_total",
			Help: "Ingestion queue messages, by outcome: processed, duplicate, dead_lettered, retried.",
		}, []string{"outcome"})), queueOutcomes...),
	}
	if instance != "" {
		info := register(r, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_instance_info",
			Help: "Always 1; instance_id is this process's HERALD_INSTANCE_ID.",
		}, []string{"instance_id"}))
		info.WithLabelValues(instance).Set(1)
	}
	return m
}

// registrar registers on reg, or does nothing when reg is nil.
type registrar struct{ reg prometheus.Registerer }

// register registers c and returns it or, if an equal collector is already
// registered, that one.
func register[C prometheus.Collector](r registrar, c C) C {
	if r.reg == nil {
		return c
	}
	err := r.reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Sprintf("metrics: register collector: %v", err))
}

// Connected counts a new connection and records userConns, that user's
// connection count on this instance afterwards.
func (m *Metrics) Connected(userConns int) {
	m.connections.Inc()
	m.connects.Inc()
	m.connsPerUser.Observe(float64(userConns))
}

// Disconnected counts a connection that ended. Each Connected is expected
// to be matched by exactly one Disconnected.
func (m *Metrics) Disconnected() {
	m.connections.Dec()
	m.disconnects.Inc()
}

// Rejected counts a refused connection by reason ("user_limit",
// "global_limit", "draining").
func (m *Metrics) Rejected(reason string) {
	m.rejected.with(reason).Inc()
}

// Evicted counts a connection ended by the server, by reason.
func (m *Metrics) Evicted(reason hub.Reason) {
	m.evicted.with(string(reason)).Inc()
}

// Delivered counts n live events written to a stream and makes one latency
// observation (publication to write) for the call.
func (m *Metrics) Delivered(n int, latency time.Duration) {
	if n <= 0 {
		return
	}
	m.delivered.Add(float64(n))
	m.deliveryLatency.Observe(seconds(latency))
}

// Replayed counts n events written from the store.
func (m *Metrics) Replayed(n int) {
	if n <= 0 {
		return
	}
	m.replayed.Add(float64(n))
}

// Published counts n published items of kind ("notification", "event").
func (m *Metrics) Published(kind string, n int) {
	m.published.add(kind, n)
}

// PublishLatency records how long a publish took to commit to the store.
func (m *Metrics) PublishLatency(d time.Duration) {
	m.publishLatency.Observe(seconds(d))
}

// Error counts one error of kind ("store", "bus", "queue", "internal").
func (m *Metrics) Error(kind string) {
	m.errors.with(kind).Inc()
}

// QueueLag sets the age of the oldest message in the batch just received
// from the ingestion queue.
func (m *Metrics) QueueLag(d time.Duration) {
	m.queueLag.Set(seconds(d))
}

// QueueMessages counts n queue messages by outcome ("processed",
// "duplicate", "dead_lettered", "retried").
func (m *Metrics) QueueMessages(outcome string, n int) {
	m.queueMessages.add(outcome, n)
}

// seconds converts d to seconds, negative durations to zero.
func seconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return d.Seconds()
}
