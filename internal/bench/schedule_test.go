package bench

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestNewSchedule(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := NewSchedule(start, 1000, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if s.Count != 30000 {
		t.Fatalf("count %d, want 30000", s.Count)
	}
	// Non-integral intervals do not drift: event 3000 of 3/s is at 1000 s.
	s3, _ := NewSchedule(start, 3, time.Hour)
	if got := s3.At(3000).Sub(start); got != 1000*time.Second {
		t.Fatalf("At(3000) at 3/s = %v after start, want 1000s", got)
	}
	if got := s3.At(1).Sub(start); got != 333333333*time.Nanosecond {
		t.Fatalf("At(1) at 3/s = %v, want 333.333333ms", got)
	}
	for _, bad := range []struct {
		rate float64
		d    time.Duration
	}{{0, time.Second}, {-1, time.Second}, {10, 0}, {1e12, time.Hour}} {
		if _, err := NewSchedule(start, bad.rate, bad.d); err == nil {
			t.Errorf("NewSchedule(%v, %v) accepted", bad.rate, bad.d)
		}
	}
}

// TestScheduleRunOnTime checks that every event fires at its due time, not
// before, in order, with the fake clock of synctest.
func TestScheduleRunOnTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, err := NewSchedule(time.Now().Add(time.Second), 100, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		err = s.Run(t.Context(), func(i int, due time.Time) {
			if i != next {
				t.Fatalf("fired %d, want %d", i, next)
			}
			next++
			if !due.Equal(s.At(i)) {
				t.Fatalf("event %d due %v, want %v", i, due, s.At(i))
			}
			if now := time.Now(); !now.Equal(due) {
				t.Fatalf("event %d fired at %v, due %v", i, now, due)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if next != 200 {
			t.Fatalf("fired %d events, want 200", next)
		}
	})
}

// TestScheduleOpenLoop checks that a slow consumer does not thin the
// schedule: late events fire at once, keeping their due times, and the run
// ends when the backlog is worked off rather than skipping it.
func TestScheduleOpenLoop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s, _ := NewSchedule(start, 1000, time.Second) // due every 1ms
		var lateness []time.Duration
		err := s.Run(t.Context(), func(i int, due time.Time) {
			lateness = append(lateness, time.Since(due))
			if i == 10 {
				time.Sleep(100 * time.Millisecond) // one stall
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(lateness) != 1000 {
			t.Fatalf("fired %d events, want all 1000", len(lateness))
		}
		// Events 11..110 were due during the stall: all fire late, the
		// first by 99ms, and nothing was dropped; after the stall the
		// schedule is back on time.
		if got := lateness[11]; got != 99*time.Millisecond {
			t.Errorf("event 11 late by %v, want 99ms", got)
		}
		if got := lateness[500]; got != 0 {
			t.Errorf("event 500 late by %v, want on time", got)
		}
		if end := time.Since(start); end != 999*time.Millisecond {
			t.Errorf("run ended %v after start, want at the last due time 999ms", end)
		}
	})
}

func TestScheduleRunCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 45*time.Millisecond)
		defer cancel()
		s, _ := NewSchedule(time.Now(), 100, time.Minute)
		fired := 0
		err := s.Run(ctx, func(int, time.Time) { fired++ })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, want deadline exceeded", err)
		}
		if fired != 5 { // at 0, 10, 20, 30, 40 ms
			t.Fatalf("fired %d before the deadline, want 5", fired)
		}
	})
}
