package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// benchData is the data object of every notification the bench publishes:
// the phase it belongs to (a receiver ignores others), its sequence number
// in that phase and its scheduled send time in Unix nanoseconds.
type benchData struct {
	Run string `json:"run"`
	Seq int    `json:"seq"`
	Due int64  `json:"due"`
}

// receiver is what a phase does with the notifications its streams read:
// notification seq of the phase, scheduled at due, read on stream k at now.
type receiver interface {
	run() string
	receive(seq, k int, due int64, now time.Time)
}

// fleet is a set of open streams, one per user (stream k is user k), whose
// readers hand every notification of the current phase to it. Phases run
// one after another on the same streams.
type fleet struct {
	users   []string
	phase   atomic.Pointer[receiver]
	dropped atomic.Int64
	stop    context.CancelFunc
	readers sync.WaitGroup
	tr      *http.Transport
}

// openFleet opens one stream for each of conns users (prefix0, prefix1, …),
// at most dial at once, and starts their readers; the first failure closes
// what was opened and ends the run.
func openFleet(ctx context.Context, t *Target, base, prefix string, conns, dial int) (*fleet, error) {
	if _, err := RaiseFileLimit(); err != nil {
		return nil, err
	}
	f := &fleet{users: userIDs(prefix, conns), tr: newTransport(t.Sources, 0)}
	toks, err := tokens(t.Secret, f.users, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: f.tr}
	streamCtx, stop := context.WithCancel(ctx)
	f.stop = stop
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, dial)
	)
	t.logger().Info("opening streams", "conns", conns)
	for k, tok := range toks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s, err := openStream(streamCtx, client, base, tok)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("stream %d: %w", k, err)
				}
				mu.Unlock()
				return
			}
			f.readers.Go(func() { f.read(streamCtx, s, k) })
		})
	}
	wg.Wait()
	if first != nil {
		f.close()
		return nil, first
	}
	return f, nil
}

// read consumes stream k until ctx ends, handing each notification of the
// current phase to it.
func (f *fleet) read(ctx context.Context, s *stream, k int) {
	defer func() { _ = s.close() }()
	var n struct {
		Data benchData `json:"data"`
	}
	for {
		ev, err := s.dec.Next()
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				f.dropped.Add(1)
			}
			return
		}
		if ev.Name != "notification" {
			continue
		}
		p := f.phase.Load()
		if p == nil {
			continue
		}
		n.Data = benchData{}
		if json.Unmarshal([]byte(ev.Data), &n) != nil || n.Data.Run != (*p).run() {
			continue
		}
		(*p).receive(n.Data.Seq, k, n.Data.Due, now)
	}
}

// begin makes r the phase the readers report to.
func (f *fleet) begin(r receiver) { f.phase.Store(&r) }

// close ends every stream and waits for the readers.
func (f *fleet) close() {
	f.stop()
	f.readers.Wait()
	f.tr.CloseIdleConnections()
}

// awaitAll returns when missing reports nothing missing, or grace after it
// was called, or when ctx ends.
func awaitAll(ctx context.Context, grace time.Duration, missing func() int64) {
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for missing() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// cpuMeter measures the CPU time a process uses between start and stop.
type cpuMeter struct {
	pid   int
	start time.Duration
	t     *Target
}

// startCPU starts measuring process pid; without a pid (0), or where its
// CPU time cannot be read, stop returns -1.
func startCPU(pid int, t *Target) *cpuMeter {
	m := &cpuMeter{pid: pid, t: t}
	if pid > 0 {
		d, err := CPUTime(pid)
		if err != nil {
			t.logger().Warn("no server cpu time", "err", err)
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
		m.t.logger().Warn("no server cpu time", "err", err)
		return -1
	}
	return (d - m.start).Seconds()
}

// perDelivery returns cpu seconds over n deliveries in microseconds, -1
// when either is unknown.
func perDelivery(cpu float64, n int64) float64 {
	if cpu < 0 || n <= 0 {
		return -1
	}
	return cpu / float64(n) * 1e6
}
