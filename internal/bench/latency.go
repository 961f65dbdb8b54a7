package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// LatencyOptions configures Latency.
type LatencyOptions struct {
	Target
	Conns           int           // streams, one per user, > 0
	Rate            float64       // notifications per second in total, > 0
	Duration        time.Duration // length of the publishing phase
	Grace           time.Duration // wait after the last acknowledgement for stragglers; 0 for 5s
	Publishers      int           // concurrent publish requests at most; 0 for 16
	UserPrefix      string        // user ids are UserPrefix0 … ; "u" when empty
	DialConcurrency int           // streams being opened at once; 0 for 64
	PID             int           // the server's process id, to read its CPU time; 0 to skip
}

// LatencyResult is what Latency measured. Latencies are from each
// notification's scheduled send time: publish is until the 202, delivery
// until the receiver read the event.
type LatencyResult struct {
	Conns          int     `json:"conns"`
	Rate           float64 `json:"rate"`
	Seconds        float64 `json:"seconds"`        // of the publishing phase, as run
	Scheduled      int     `json:"scheduled"`      // notifications in the schedule
	Sent           int64   `json:"sent"`           // publish requests made
	Acked          int64   `json:"acked"`          // answered 202
	PublishErrors  int64   `json:"publish_errors"` // any other answer or a transport error
	FirstError     string  `json:"first_error,omitempty"`
	Received       int64   `json:"received"`        // distinct notifications received
	Lost           int64   `json:"lost"`            // acknowledged, not received by the end of the grace period
	Duplicates     int64   `json:"duplicates"`      // received more than once
	Misrouted      int64   `json:"misrouted"`       // received on another user's stream
	Dropped        int64   `json:"dropped_streams"` // streams that ended during the run
	AckedPerSecond float64 `json:"acked_per_second"`
	SendLag        Summary `json:"send_lag"` // how late the publisher started each request
	Publish        Summary `json:"publish_latency"`
	Delivery       Summary `json:"delivery_latency"`
	// ServerCPU is the CPU time the server (PID) used from the first
	// publish to the last delivery, and CPUPerDelivery that over the
	// notifications received; both -1 without a PID.
	ServerCPU      float64 `json:"server_cpu_seconds"`
	CPUPerDelivery float64 `json:"server_cpu_per_delivery_us"`
}

func (o *LatencyOptions) check() error {
	switch {
	case o.Conns <= 0:
		return fmt.Errorf("conns: must be positive, got %d", o.Conns)
	case o.Duration <= 0:
		return fmt.Errorf("duration: must be positive, got %s", o.Duration)
	case o.Grace < 0 || o.Publishers < 0:
		return errors.New("grace and publishers must not be negative")
	case len(o.Secret) == 0:
		return errors.New("secret: required to sign subscriber tokens")
	case o.Key == "":
		return errors.New("key: the publisher key is required")
	}
	if o.Grace == 0 {
		o.Grace = 5 * time.Second
	}
	if o.Publishers == 0 {
		o.Publishers = 16
	}
	if o.UserPrefix == "" {
		o.UserPrefix = "u"
	}
	if o.DialConcurrency <= 0 {
		o.DialConcurrency = 64
	}
	return nil
}

type benchNotification struct {
	UserID    string    `json:"userId,omitempty"`
	Broadcast bool      `json:"broadcast,omitempty"`
	Type      string    `json:"type"`
	Title     string    `json:"title"`
	Data      benchData `json:"data"`
}

// latencyRun is one publishing phase of Latency (or of a step of Sweep)
// on a fleet of streams.
type latencyRun struct {
	opts     LatencyOptions
	id       string
	sched    Schedule
	acked    []atomic.Bool
	recv     []atomic.Uint32
	sent     atomic.Int64
	misroute atomic.Int64
	pubErr   errorCounter
	lag      Histogram
	pubLat   Histogram
	delivery Histogram
}

func (r *latencyRun) run() string { return r.id }

func (r *latencyRun) receive(seq, k int, due int64, now time.Time) {
	if seq < 0 || seq >= len(r.recv) {
		return
	}
	if seq%r.opts.Conns != k {
		r.misroute.Add(1)
	}
	if r.recv[seq].Add(1) == 1 {
		r.delivery.Record(now.Sub(time.Unix(0, due)))
	}
}

// Latency opens one stream for each of opts.Conns users, then publishes
// opts.Rate notifications per second for opts.Duration on an open-loop
// schedule, spread round-robin over the users, and measures publish and
// delivery latency, losses and duplicates. The error is for bad options or
// a run that could not start (a stream that failed to open).
func Latency(ctx context.Context, opts LatencyOptions) (*LatencyResult, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	base, err := opts.base()
	if err != nil {
		return nil, err
	}
	if _, err := NewSchedule(time.Time{}, opts.Rate, opts.Duration); err != nil {
		return nil, err
	}
	f, err := openFleet(ctx, &opts.Target, base, opts.UserPrefix, opts.Conns, opts.DialConcurrency)
	if err != nil {
		return nil, err
	}
	defer f.close()
	return latencyPhase(ctx, f, base, opts)
}

// latencyPhase publishes opts.Rate notifications per second for
// opts.Duration to the users of f and measures what arrives.
func latencyPhase(ctx context.Context, f *fleet, base string, opts LatencyOptions) (*LatencyResult, error) {
	sched, err := NewSchedule(time.Time{}, opts.Rate, opts.Duration)
	if err != nil {
		return nil, err
	}
	r := &latencyRun{
		opts: opts, id: rand.Text()[:12], sched: sched,
		acked: make([]atomic.Bool, sched.Count), recv: make([]atomic.Uint32, sched.Count),
	}
	f.begin(r)
	dropped := f.dropped.Load()
	pub := newPublisher(&opts.Target, base, opts.Publishers)
	defer pub.close()
	r.sched.Start = time.Now().Add(50 * time.Millisecond)
	opts.logger().Info("publishing", "rate", opts.Rate, "duration", opts.Duration, "notifications", sched.Count)
	cpu := startCPU(opts.PID, &opts.Target)
	if err := r.publishAll(ctx, pub, f.users); err != nil {
		return nil, err
	}
	seconds := time.Since(r.sched.Start).Seconds()
	awaitAll(ctx, opts.Grace, r.missing)
	used := cpu.stop()
	res := r.result(seconds)
	res.Dropped = f.dropped.Load() - dropped
	res.ServerCPU = used
	res.CPUPerDelivery = perDelivery(used, res.Received)
	return res, nil
}

// publishAll runs the schedule, handing each notification to one of
// Publishers workers, and returns when all requests are answered.
func (r *latencyRun) publishAll(ctx context.Context, pub *publisher, users []string) error {
	jobs := make(chan int, min(r.sched.Count, 1<<20))
	var wg sync.WaitGroup
	for range r.opts.Publishers {
		wg.Go(func() {
			for i := range jobs {
				r.publishOne(ctx, pub, users, i)
			}
		})
	}
	err := r.sched.Run(ctx, func(i int, _ time.Time) { jobs <- i })
	close(jobs)
	wg.Wait()
	return err
}

func (r *latencyRun) publishOne(ctx context.Context, pub *publisher, users []string, i int) {
	due := r.sched.At(i)
	r.lag.Record(time.Since(due))
	body, err := json.Marshal(benchNotification{
		UserID: users[i%len(users)], Type: "bench", Title: "bench " + strconv.Itoa(i),
		Data: benchData{Run: r.id, Seq: i, Due: due.UnixNano()},
	})
	if err != nil {
		r.pubErr.add(err)
		return
	}
	r.sent.Add(1)
	if err := pub.publish(ctx, body); err != nil {
		r.pubErr.add(err)
		return
	}
	r.pubLat.Record(time.Since(due))
	r.acked[i].Store(true)
}

// missing counts the acknowledged notifications not received.
func (r *latencyRun) missing() int64 {
	var n int64
	for i := range r.acked {
		if r.acked[i].Load() && r.recv[i].Load() == 0 {
			n++
		}
	}
	return n
}

func (r *latencyRun) result(seconds float64) *LatencyResult {
	res := &LatencyResult{
		Conns: r.opts.Conns, Rate: r.opts.Rate, Seconds: seconds, Scheduled: r.sched.Count,
		Sent: r.sent.Load(), PublishErrors: r.pubErr.count(), FirstError: r.pubErr.example(),
		Misrouted: r.misroute.Load(), Lost: r.missing(),
		SendLag: r.lag.Summary(), Publish: r.pubLat.Summary(), Delivery: r.delivery.Summary(),
	}
	for i := range r.acked {
		if r.acked[i].Load() {
			res.Acked++
		}
		if c := r.recv[i].Load(); c > 0 {
			res.Received++
			res.Duplicates += int64(c - 1)
		}
	}
	if seconds > 0 {
		res.AckedPerSecond = float64(res.Acked) / seconds
	}
	return res
}
