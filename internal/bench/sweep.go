package bench

import (
	"context"
	"fmt"
	"time"
)

// SweepOptions configures Sweep: Latency's options, run at each of Rates.
type SweepOptions struct {
	LatencyOptions
	Rates []float64     // target rates, notifications per second, each > 0
	Pause time.Duration // between steps, for the server to settle; 0 for 2s
}

// SweepResult is one Latency result per target rate, in order, measured on
// the same streams.
type SweepResult struct {
	Conns int              `json:"conns"`
	Steps []*LatencyResult `json:"steps"`
	// Best is the highest target rate whose step lost nothing and kept
	// delivery p99 under 100 ms with no publish errors; 0 if none did.
	Best float64 `json:"best_rate"`
}

// BestP99 is the delivery p99 a step must stay under to count for Best.
const BestP99 = 100 * time.Millisecond

// Sweep opens opts.Conns streams once, then runs Latency's publishing phase
// at each target rate in turn on them, pausing between steps. It stops
// early when ctx ends, with the steps so far.
func Sweep(ctx context.Context, opts SweepOptions) (*SweepResult, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if len(opts.Rates) == 0 {
		return nil, fmt.Errorf("rates: at least one is required")
	}
	for _, r := range opts.Rates {
		if !(r > 0) {
			return nil, fmt.Errorf("rates: must be positive, got %v", r)
		}
	}
	if opts.Pause <= 0 {
		opts.Pause = 2 * time.Second
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
	res := &SweepResult{Conns: opts.Conns}
	for i, rate := range opts.Rates {
		if i > 0 {
			select {
			case <-ctx.Done():
				return res, nil
			case <-time.After(opts.Pause):
			}
		}
		step := opts.LatencyOptions
		step.Rate = rate
		r, err := latencyPhase(ctx, f, base, step)
		if err != nil {
			if ctx.Err() != nil {
				return res, nil
			}
			return nil, fmt.Errorf("rate %v: %w", rate, err)
		}
		res.Steps = append(res.Steps, r)
		res.Best = bestRate(res.Steps)
	}
	return res, nil
}

// bestRate returns the highest target rate among steps that lost nothing,
// had no publish error and kept delivery p99 under BestP99; 0 if none.
func bestRate(steps []*LatencyResult) float64 {
	best := 0.0
	for _, s := range steps {
		if s.Lost == 0 && s.PublishErrors == 0 && s.Delivery.P99 < ms(BestP99) && s.Rate > best {
			best = s.Rate
		}
	}
	return best
}
