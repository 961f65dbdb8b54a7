package sqlite

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// BenchmarkPublish measures acknowledged (committed, fsync'd per Synchronous)
// single-recipient publishes; one op is one notification. Exactly
// `publishers` goroutines publish concurrently (b.RunParallel cannot run one,
// or a count that is not a multiple of GOMAXPROCS), spread over 100 users,
// each publish its own request to the group-committing writer.
//
//	go test -run '^$' -bench BenchmarkPublish -benchtime 3s ./internal/store/sqlite
func BenchmarkPublish(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		for _, publishers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("sync=%s/publishers=%d", sync, publishers), func(b *testing.B) {
				benchPublish(b, Options{Synchronous: sync}, publishers)
			})
		}
	}
}

func benchPublish(b *testing.B, opts Options, publishers int) {
	s := openTemp(b, opts)
	var (
		ids  notify.IDGen
		next atomic.Int64
		wg   sync.WaitGroup
	)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for p := range publishers {
		wg.Go(func() {
			user := fmt.Sprintf("user-%d", p%100)
			for next.Add(1) <= int64(b.N) {
				now := time.Now().UTC().Truncate(time.Microsecond)
				n := notify.Notification{
					ID: ids.New(now), UserID: user, Type: "comment",
					Title: "New comment", Message: "Ann replied to your post",
					Link: "/posts/42", CreatedAt: now,
				}
				if _, err := s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{n}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
	// CPU time (all goroutines, user+system) per notification: steadier
	// than throughput on a shared machine.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/notification")
	if c := s.w.commits.Load(); c > 0 {
		b.ReportMetric(float64(s.w.committed.Load())/float64(c), "requests/commit")
	}
}

// cpuTime returns the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
