package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// PublishOptions configures Publish.
type PublishOptions struct {
	Target
	Concurrency []int         // levels to measure in turn: requests in flight at once, each > 0
	Duration    time.Duration // per level
	Users       int           // recipients, round-robin; 0 for 1000
	UserPrefix  string        // user ids are UserPrefix0 … ; "u" when empty
}

// PublishLevel is the measurement at one concurrency level.
type PublishLevel struct {
	Concurrency    int     `json:"concurrency"`
	Seconds        float64 `json:"seconds"`
	Acked          int64   `json:"acked"`
	Errors         int64   `json:"errors"`
	FirstError     string  `json:"first_error,omitempty"`
	AckedPerSecond float64 `json:"acked_per_second"`
	Latency        Summary `json:"latency"` // request to 202
}

// PublishResult is what Publish measured, one entry per level.
type PublishResult struct {
	Levels []PublishLevel `json:"levels"`
}

func (o *PublishOptions) check() error {
	switch {
	case len(o.Concurrency) == 0:
		return errors.New("concurrency: at least one level is required")
	case o.Duration <= 0:
		return fmt.Errorf("duration: must be positive, got %s", o.Duration)
	case o.Users < 0:
		return fmt.Errorf("users: must not be negative, got %d", o.Users)
	case o.Key == "":
		return errors.New("key: the publisher key is required")
	}
	for _, c := range o.Concurrency {
		if c <= 0 {
			return fmt.Errorf("concurrency: levels must be positive, got %d", c)
		}
	}
	if o.Users == 0 {
		o.Users = 1000
	}
	if o.UserPrefix == "" {
		o.UserPrefix = "u"
	}
	return nil
}

// Publish measures closed-loop publishing: at each concurrency level c, c
// workers each publish one notification, wait for the answer and publish
// the next, for opts.Duration. The error is for bad options or ctx ending;
// failed requests are counted in the level.
func Publish(ctx context.Context, opts PublishOptions) (*PublishResult, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	base, err := opts.base()
	if err != nil {
		return nil, err
	}
	if _, err := RaiseFileLimit(); err != nil {
		return nil, err
	}
	users := userIDs(opts.UserPrefix, opts.Users)
	res := &PublishResult{}
	for _, c := range opts.Concurrency {
		opts.logger().Info("publishing", "concurrency", c, "duration", opts.Duration)
		lvl := publishLevel(ctx, &opts, base, users, c)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res.Levels = append(res.Levels, lvl)
	}
	return res, nil
}

func publishLevel(ctx context.Context, opts *PublishOptions, base string, users []string, c int) PublishLevel {
	pub := newPublisher(&opts.Target, base, c)
	defer pub.close()
	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	var (
		lat   Histogram
		acked atomic.Int64
		errs  errorCounter
		seq   atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range c {
		wg.Go(func() {
			for runCtx.Err() == nil {
				n := int(seq.Add(1))
				body, err := json.Marshal(benchNotification{
					UserID: users[n%len(users)], Type: "bench", Title: "bench " + strconv.Itoa(n),
					Data: benchData{Seq: n},
				})
				if err != nil {
					errs.add(err)
					return
				}
				// A request started before the end runs to its answer (on
				// ctx, not runCtx): every publish counts as acked or failed,
				// and each level publishes at least once per worker.
				t0 := time.Now()
				if err := pub.publish(ctx, body); err != nil {
					if ctx.Err() == nil {
						errs.add(err)
					}
					continue
				}
				lat.Record(time.Since(t0))
				acked.Add(1)
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	lvl := PublishLevel{
		Concurrency: c, Seconds: secs, Acked: acked.Load(),
		Errors: errs.count(), FirstError: errs.example(), Latency: lat.Summary(),
	}
	if secs > 0 {
		lvl.AckedPerSecond = float64(lvl.Acked) / secs
	}
	return lvl
}
