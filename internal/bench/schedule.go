package bench

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Schedule is an open-loop timetable: event i is due at Start + i/Rate
// seconds whatever happened to the events before it. A load generator that
// waits for one answer before sending the next (closed loop) sends less
// while the server is slow, and so never measures the slowness it caused;
// on a Schedule, latency is measured from the due time, and a late event
// counts its lateness. A Schedule is a value; it is safe to share.
type Schedule struct {
	Start time.Time
	Rate  float64 // events per second, > 0
	Count int     // events in the schedule
}

// NewSchedule returns the schedule of rate events per second for d from
// start: floor(rate·d) events. It refuses a rate or duration that is not
// positive.
func NewSchedule(start time.Time, rate float64, d time.Duration) (Schedule, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return Schedule{}, fmt.Errorf("schedule: rate must be positive, got %v", rate)
	}
	if d <= 0 {
		return Schedule{}, fmt.Errorf("schedule: duration must be positive, got %s", d)
	}
	n := math.Floor(rate * d.Seconds())
	if n > math.MaxInt32 {
		return Schedule{}, fmt.Errorf("schedule: %v events/s for %s is too many events", rate, d)
	}
	return Schedule{Start: start, Rate: rate, Count: int(n)}, nil
}

// At returns the due time of event i. It is computed from Start, not by
// adding intervals, so rounding does not drift.
func (s Schedule) At(i int) time.Time {
	return s.Start.Add(time.Duration(float64(i) * float64(time.Second) / s.Rate))
}

// Run calls fire(i, due) for every event in order, each at its due time or
// at once when it is already late (a late event is not skipped: it fires
// immediately, and its lateness is the caller's to measure from due). fire
// runs on Run's goroutine and should only hand the event over; while it
// blocks, later events fall behind. Run returns nil after the last event,
// or ctx's error when ctx ends first.
func (s Schedule) Run(ctx context.Context, fire func(i int, due time.Time)) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := range s.Count {
		due := s.At(i)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		fire(i, due)
	}
	return nil
}
