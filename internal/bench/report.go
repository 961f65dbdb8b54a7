package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// The WriteText methods print a result as a human-readable table. The JSON
// encoding of the result types is the machine-readable form (--json).

// WriteText writes r as a table to w.
func (r *IdleResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("idle streams", "%d over %d users", r.Conns, r.Users)
	row("connected", "%d (failed %d, dropped while idle %d)", r.Connected, r.Failed, r.Dropped)
	if r.FirstError != "" {
		row("first error", "%s", r.FirstError)
	}
	row("time to connect all", "%.2f s", r.ConnectSeconds)
	row("connect latency", "%s", quantiles(r.ConnectLatency))
	if r.RSSBefore >= 0 && r.RSSAfter >= 0 {
		row("server RSS", "%s before, %s after", mib(r.RSSBefore), mib(r.RSSAfter))
		row("RSS per connection", "%.1f KiB", r.RSSPerConn/1024)
	} else {
		row("server RSS", "not measured (no --pid)")
	}
	if r.GoroutinesPre >= 0 && r.GoroutinesPost >= 0 {
		row("server goroutines", "%d before, %d after (%.2f per connection)", r.GoroutinesPre, r.GoroutinesPost, r.GoroutinesPer)
		row("server Go heap, stacks", "%.1f KiB, %.1f KiB per connection (in use)", r.HeapPerConn/1024, r.StackPerConn/1024)
	} else {
		row("server goroutines", "not measured (no go_goroutines in /metrics)")
	}
	return tw.Flush()
}

// WriteText writes r as a table to w.
func (r *LatencyResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("streams", "%d (one per user; %d dropped during the run)", r.Conns, r.Dropped)
	row("rate", "%.0f/s scheduled for %.1f s: %d notifications", r.Rate, r.Seconds, r.Scheduled)
	row("sent / acked", "%d / %d (%.0f acked/s; %d errors)", r.Sent, r.Acked, r.AckedPerSecond, r.PublishErrors)
	if r.FirstError != "" {
		row("first error", "%s", r.FirstError)
	}
	row("received", "%d (lost %d, duplicates %d, misrouted %d)", r.Received, r.Lost, r.Duplicates, r.Misrouted)
	row("delivery latency", "%s", quantiles(r.Delivery))
	row("publish latency", "%s", quantiles(r.Publish))
	row("publisher lag", "%s", quantiles(r.SendLag))
	return tw.Flush()
}

// WriteText writes r as a table to w, one row per level.
func (r *PublishResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "concurrency\tacked\terrors\tacked/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, l := range r.Levels {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			l.Concurrency, l.Acked, l.Errors, l.AckedPerSecond, l.Latency.P50, l.Latency.P90, l.Latency.P99, l.Latency.Max)
	}
	if err := tw.Flush(); err != nil {
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
