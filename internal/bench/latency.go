package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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

// benchData is the data object of every notification Latency publishes:
// the run it belongs to (a receiver ignores others), its sequence number
// and its scheduled send time in Unix nanoseconds.
type benchData struct {
	Run string `json:"run"`
	Seq int    `json:"seq"`
	Due int64  `json:"due"`
}

type benchNotification struct {
	UserID string    `json:"userId"`
	Type   string    `json:"type"`
	Title  string    `json:"title"`
	Data   benchData `json:"data"`
}

// latencyRun is the shared state of one Latency run.
type latencyRun struct {
	opts     LatencyOptions
	run      string
	sched    Schedule
	acked    []atomic.Bool
	recv     []atomic.Uint32
	sent     atomic.Int64
	misroute atomic.Int64
	dropped  atomic.Int64
	pubErr   errorCounter
	lag      Histogram
	pubLat   Histogram
	delivery Histogram
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
	sched, err := NewSchedule(time.Time{}, opts.Rate, opts.Duration)
	if err != nil {
		return nil, err
	}
	if _, err := RaiseFileLimit(); err != nil {
		return nil, err
	}
	log := opts.logger()
	users := userIDs(opts.UserPrefix, opts.Conns)
	toks, err := tokens(opts.Secret, users, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	r := &latencyRun{
		opts: opts, run: rand.Text()[:12], sched: sched,
		acked: make([]atomic.Bool, sched.Count), recv: make([]atomic.Uint32, sched.Count),
	}

	tr := newTransport(opts.Sources, 0)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	streamCtx, stopStreams := context.WithCancel(ctx)
	var readers sync.WaitGroup
	defer func() {
		stopStreams()
		readers.Wait()
	}()
	log.Info("opening streams", "conns", opts.Conns)
	if err := r.openAll(streamCtx, client, base, toks, &readers); err != nil {
		return nil, err
	}

	pub := newPublisher(&opts.Target, base, opts.Publishers)
	defer pub.close()
	r.sched.Start = time.Now().Add(50 * time.Millisecond)
	log.Info("publishing", "rate", opts.Rate, "duration", opts.Duration, "notifications", sched.Count)
	cpu := startCPU(opts.PID, log)
	if err := r.publishAll(ctx, pub, users); err != nil {
		return nil, err
	}
	seconds := time.Since(r.sched.Start).Seconds()
	r.awaitDelivery(ctx)
	used := cpu.stop()
	stopStreams()
	readers.Wait() // the counts are final
	res := r.result(seconds)
	res.ServerCPU, res.CPUPerDelivery = used, -1
	if used >= 0 && res.Received > 0 {
		res.CPUPerDelivery = used / float64(res.Received) * 1e6
	}
	return res, nil
}

// cpuMeter measures the CPU time a process uses between start and stop.
type cpuMeter struct {
	pid   int
	start time.Duration
	log   *slog.Logger
}

// startCPU starts measuring process pid; without a pid (0), or where its
// CPU time cannot be read, stop returns -1.
func startCPU(pid int, log *slog.Logger) *cpuMeter {
	m := &cpuMeter{pid: pid, log: log}
	if pid > 0 {
		d, err := CPUTime(pid)
		if err != nil {
			log.Warn("no server cpu time", "err", err)
			m.pid = 0
		}
		m.start = d
	}
	return m
}

// stop returns the CPU seconds used since startCPU, or -1.
func (m *cpuMeter) stop() float64 {
	if m.pid == 0 {
		return -1
	}
	d, err := CPUTime(m.pid)
	if err != nil {
		m.log.Warn("no server cpu time", "err", err)
		return -1
	}
	return (d - m.start).Seconds()
}

// openAll opens a stream for each token, at most DialConcurrency at once,
// and starts its reader; the first failure ends the run.
func (r *latencyRun) openAll(ctx context.Context, client *http.Client, base string, toks []string, readers *sync.WaitGroup) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, r.opts.DialConcurrency)
	)
	for k, tok := range toks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s, err := openStream(ctx, client, base, tok)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("stream %d: %w", k, err)
				}
				mu.Unlock()
				return
			}
			readers.Go(func() { r.read(ctx, s, k) })
		})
	}
	wg.Wait()
	return first
}

// read consumes stream k until ctx ends, accounting for each notification
// of this run.
func (r *latencyRun) read(ctx context.Context, s *stream, k int) {
	defer func() { _ = s.close() }()
	var n struct {
		Data benchData `json:"data"`
	}
	for {
		ev, err := s.dec.Next()
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				r.dropped.Add(1)
			}
			return
		}
		if ev.Name != "notification" {
			continue
		}
		n.Data = benchData{}
		if json.Unmarshal([]byte(ev.Data), &n) != nil || n.Data.Run != r.run || n.Data.Seq < 0 || n.Data.Seq >= len(r.recv) {
			continue
		}
		if n.Data.Seq%r.opts.Conns != k {
			r.misroute.Add(1)
		}
		if r.recv[n.Data.Seq].Add(1) == 1 {
			r.delivery.Record(now.Sub(time.Unix(0, n.Data.Due)))
		}
	}
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
		Data: benchData{Run: r.run, Seq: i, Due: due.UnixNano()},
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

// awaitDelivery returns when every acknowledged notification was received,
// or Grace after it was called, or when ctx ends.
func (r *latencyRun) awaitDelivery(ctx context.Context) {
	deadline := time.NewTimer(r.opts.Grace)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for r.missing() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
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
		Misrouted: r.misroute.Load(), Dropped: r.dropped.Load(), Lost: r.missing(),
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
