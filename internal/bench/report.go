package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// The WriteText methods print a result as a human-readable table. The JSON
// encoding of the result types is the machine-readable form (--json).

// table writes aligned rows through a tabwriter and keeps the first write
// error, which flush returns.
type table struct {
	tw  *tabwriter.Writer
	err error
}

func newTable(w io.Writer, flags uint) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', flags)}
}

func (t *table) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.tw, format, args...)
	}
}

// row writes the key k and its formatted value as one row.
func (t *table) row(k, format string, args ...any) {
	t.printf("%s\t"+format+"\n", append([]any{k}, args...)...)
}

func (t *table) flush() error {
	if t.err != nil {
		return t.err
	}
	return t.tw.Flush()
}

// WriteText writes r as a table to w.
func (r *IdleResult) WriteText(w io.Writer) error {
	t := newTable(w, 0)
	t.row("idle streams", "%d over %d users", r.Conns, r.Users)
	t.row("connected", "%d (failed %d, dropped while idle %d)", r.Connected, r.Failed, r.Dropped)
	if r.FirstError != "" {
		t.row("first error", "%s", r.FirstError)
	}
	t.row("time to connect all", "%.2f s", r.ConnectSeconds)
	t.row("connect latency", "%s", quantiles(r.ConnectLatency))
	if r.RSSBefore >= 0 && r.RSSAfter >= 0 {
		t.row("server RSS", "%s before, %s after", mib(r.RSSBefore), mib(r.RSSAfter))
		t.row("RSS per connection", "%.1f KiB", r.RSSPerConn/1024)
	} else {
		t.row("server RSS", "not measured (no --pid)")
	}
	if r.IdleCPU >= 0 {
		t.row("server CPU while idle", "%.2f %% of a core", r.IdleCPU)
	}
	if r.RSSLeft >= 0 {
		t.row("server RSS after all left", "%s", mib(r.RSSLeft))
	}
	if r.GoroutinesPre >= 0 && r.GoroutinesPost >= 0 {
		t.row("server goroutines", "%d before, %d after (%.2f per connection)", r.GoroutinesPre, r.GoroutinesPost, r.GoroutinesPer)
		t.row("server Go heap, stacks", "%.1f KiB, %.1f KiB per connection (in use)", r.HeapPerConn/1024, r.StackPerConn/1024)
	} else {
		t.row("server goroutines", "not measured (no go_goroutines in /metrics)")
	}
	return t.flush()
}

// WriteText writes r as a table to w.
func (r *LatencyResult) WriteText(w io.Writer) error {
	t := newTable(w, 0)
	t.row("streams", "%d (one per user; %d dropped during the run)", r.Conns, r.Dropped)
	t.row("rate", "%.0f/s scheduled for %.1f s: %d notifications", r.Rate, r.Seconds, r.Scheduled)
	t.row("sent / acked", "%d / %d (%.0f acked/s; %d errors)", r.Sent, r.Acked, r.AckedPerSecond, r.PublishErrors)
	if r.FirstError != "" {
		t.row("first error", "%s", r.FirstError)
	}
	t.row("received", "%d (lost %d, duplicates %d, misrouted %d)", r.Received, r.Lost, r.Duplicates, r.Misrouted)
	t.row("delivery latency", "%s", quantiles(r.Delivery))
	t.row("publish latency", "%s", quantiles(r.Publish))
	t.row("publisher lag", "%s", quantiles(r.SendLag))
	if r.ServerCPU >= 0 {
		t.row("server CPU", "%.2f s, %.1f µs per delivery", r.ServerCPU, r.CPUPerDelivery)
	} else {
		t.row("server CPU", "not measured (no --pid)")
	}
	return t.flush()
}

// WriteText writes r as a table to w, one row per level.
func (r *PublishResult) WriteText(w io.Writer) error {
	t := newTable(w, tabwriter.AlignRight)
	t.printf("concurrency\tacked\terrors\tacked/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t\n")
	for _, l := range r.Levels {
		t.printf("%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			l.Concurrency, l.Acked, l.Errors, l.AckedPerSecond, l.Latency.P50, l.Latency.P90, l.Latency.P99, l.Latency.Max)
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, l := range r.Levels {
		if l.FirstError != "" {
			if _, err := fmt.Fprintf(w, "concurrency %d: first error: %s\n", l.Concurrency, l.FirstError); err != nil {
				return err
			}
		}
	}
	return nil
}

func quantiles(s Summary) string {
	if s.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms  (n=%d)", s.P50, s.P90, s.P99, s.P999, s.Max, s.Count)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// WriteText writes r as a table, one row per step, to w.
func (r *SweepResult) WriteText(w io.Writer) error {
	t := newTable(w, tabwriter.AlignRight)
	t.printf("target/s\tacked/s\tdelivered/s\tlost\tp50 ms\tp99 ms\tcpu µs/delivery\t\n")
	for _, s := range r.Steps {
		delivered := 0.0
		if s.Seconds > 0 {
			delivered = float64(s.Received) / s.Seconds
		}
		cpu := "-"
		if s.CPUPerDelivery >= 0 {
			cpu = fmt.Sprintf("%.1f", s.CPUPerDelivery)
		}
		t.printf("%.0f\t%.0f\t%.0f\t%d\t%.2f\t%.2f\t%s\t\n", s.Rate, s.AckedPerSecond, delivered, s.Lost, s.Delivery.P50, s.Delivery.P99, cpu)
	}
	t.printf("best rate with p99 < %d ms and nothing lost: %.0f/s\t\t\t\t\t\t\t\n", BestP99.Milliseconds(), r.Best)
	return t.flush()
}

// WriteText writes r as a table to w.
func (r *BroadcastResult) WriteText(w io.Writer) error {
	t := newTable(w, 0)
	t.row("streams", "%d (one per user; %d dropped during the run)", r.Conns, r.Dropped)
	t.row("broadcasts", "%d, %d acknowledged (%d errors)", r.Count, r.Acked, r.PublishErrors)
	if r.FirstError != "" {
		t.row("first error", "%s", r.FirstError)
	}
	t.row("deliveries", "%d of %d (lost %d, duplicates %d)", r.Received, r.Expected, r.Lost, r.Duplicates)
	t.row("delivery latency", "%s", quantiles(r.Delivery))
	if r.ServerCPU >= 0 {
		t.row("server CPU", "%.2f s, %.1f µs per delivery", r.ServerCPU, r.CPUPerDelivery)
	} else {
		t.row("server CPU", "not measured (no --pid)")
	}
	return t.flush()
}
