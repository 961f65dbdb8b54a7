package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// BroadcastOptions configures Broadcast.
type BroadcastOptions struct {
	Target
	Conns           int           // streams, one per user, > 0
	Count           int           // broadcasts to publish, > 0
	Interval        time.Duration // between two broadcasts; 0 for 1s
	Grace           time.Duration // wait after the last acknowledgement; 0 for 5s
	UserPrefix      string        // user ids are UserPrefix0 … ; "u" when empty
	DialConcurrency int           // streams being opened at once; 0 for 64
	PID             int           // the server's process id, for its CPU time; 0 to skip
}

// BroadcastResult is what Broadcast measured: each broadcast is expected on
// every stream; delivery latency is from its scheduled time to each read.
type BroadcastResult struct {
	Conns          int     `json:"conns"`
	Count          int     `json:"count"`
	Acked          int     `json:"acked"`
	PublishErrors  int64   `json:"publish_errors"`
	FirstError     string  `json:"first_error,omitempty"`
	Expected       int64   `json:"expected"`   // acknowledged broadcasts × streams
	Received       int64   `json:"received"`   // distinct (broadcast, stream) pairs read
	Lost           int64   `json:"lost"`       // expected and not read by the end of the grace period
	Duplicates     int64   `json:"duplicates"` // pairs read more than once
	Dropped        int64   `json:"dropped_streams"`
	Delivery       Summary `json:"delivery_latency"`
	ServerCPU      float64 `json:"server_cpu_seconds"`
	CPUPerDelivery float64 `json:"server_cpu_per_delivery_us"`
}

func (o *BroadcastOptions) check() error {
	switch {
	case o.Conns <= 0:
		return fmt.Errorf("conns: must be positive, got %d", o.Conns)
	case o.Count <= 0:
		return fmt.Errorf("count: must be positive, got %d", o.Count)
	case o.Interval < 0 || o.Grace < 0:
		return errors.New("interval and grace must not be negative")
	case len(o.Secret) == 0:
		return errors.New("secret: required to sign subscriber tokens")
	case o.Key == "":
		return errors.New("key: the publisher key is required")
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.Grace == 0 {
		o.Grace = 5 * time.Second
	}
	if o.UserPrefix == "" {
		o.UserPrefix = "u"
	}
	if o.DialConcurrency <= 0 {
		o.DialConcurrency = 64
	}
	return nil
}

// broadcastRun is the phase of Broadcast: recv counts reads per broadcast
// and stream.
type broadcastRun struct {
	id       string
	conns    int
	acked    []atomic.Bool
	recv     []atomic.Uint32 // [seq*conns + k]
	delivery Histogram
}

func (r *broadcastRun) run() string { return r.id }

func (r *broadcastRun) receive(seq, k int, due int64, now time.Time) {
	if seq < 0 || seq >= len(r.acked) || k < 0 || k >= r.conns {
		return
	}
	if r.recv[seq*r.conns+k].Add(1) == 1 {
		r.delivery.Record(now.Sub(time.Unix(0, due)))
	}
}

func (r *broadcastRun) missing() int64 {
	var n int64
	for seq := range r.acked {
		if !r.acked[seq].Load() {
			continue
		}
		for k := range r.conns {
			if r.recv[seq*r.conns+k].Load() == 0 {
				n++
			}
		}
	}
	return n
}

// Broadcast opens one stream for each of opts.Conns users, then publishes
// opts.Count broadcasts, one every opts.Interval, and measures how long each
// takes to reach every stream, what is lost or doubled, and the server's
// CPU time per delivery.
func Broadcast(ctx context.Context, opts BroadcastOptions) (*BroadcastResult, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	base, err := opts.base()
	if err != nil {
		return nil, err
	}
	f, err := openFleet(ctx, &opts.Target, base, opts.UserPrefix, opts.Conns, opts.DialConcurrency)
	if err != nil {
		return nil, err
	}
	defer f.close()
	r := &broadcastRun{
		id: rand.Text()[:12], conns: opts.Conns,
		acked: make([]atomic.Bool, opts.Count), recv: make([]atomic.Uint32, opts.Count*opts.Conns),
	}
	f.begin(r)
	pub := newPublisher(&opts.Target, base, 1)
	defer pub.close()
	res := &BroadcastResult{Conns: opts.Conns, Count: opts.Count}
	var pubErr errorCounter
	sched := Schedule{Start: time.Now().Add(50 * time.Millisecond), Rate: float64(time.Second) / float64(opts.Interval), Count: opts.Count}
	opts.logger().Info("broadcasting", "count", opts.Count, "interval", opts.Interval)
	cpu := startCPU(opts.PID, &opts.Target)
	err = sched.Run(ctx, func(i int, due time.Time) {
		body, err := json.Marshal(benchNotification{
			Broadcast: true, Type: "bench", Title: "broadcast " + strconv.Itoa(i),
			Data: benchData{Run: r.id, Seq: i, Due: due.UnixNano()},
		})
		if err == nil {
			err = pub.publish(ctx, body)
		}
		if err != nil {
			pubErr.add(err)
			return
		}
		r.acked[i].Store(true)
	})
	if err != nil {
		return nil, err
	}
	awaitAll(ctx, opts.Grace, r.missing)
	res.ServerCPU = cpu.stop()
	for i := range r.acked {
		if r.acked[i].Load() {
			res.Acked++
		}
	}
	for i := range r.recv {
		if c := r.recv[i].Load(); c > 0 {
			res.Received++
			res.Duplicates += int64(c - 1)
		}
	}
	res.Expected = int64(res.Acked) * int64(opts.Conns)
	res.Lost = r.missing()
	res.PublishErrors, res.FirstError = pubErr.count(), pubErr.example()
	res.Dropped = f.dropped.Load()
	res.Delivery = r.delivery.Summary()
	res.CPUPerDelivery = perDelivery(res.ServerCPU, res.Received)
	return res, nil
}
