package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// BenchmarkPublish measures acknowledged (committed with
// synchronous_commit=on) single-recipient publishes; one op is one
// notification. Exactly `publishers` goroutines publish concurrently, spread
// over 100 users, as in the SQLite store's benchmark; it also reports the
// latency of one Publish call (p50, p99) and the requests per commit.
//
//	go test -run '^$' -bench BenchmarkPublish -benchtime 5s ./internal/store/postgres
func BenchmarkPublish(b *testing.B) {
	for _, publishers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("publishers=%d", publishers), func(b *testing.B) {
			benchPublish(b, Options{MaxConns: 8}, publishers)
		})
	}
}

func benchPublish(b *testing.B, opts Options, publishers int) {
	s := openFresh(b, opts)
	var (
		ids  notify.IDGen
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, b.N)
	)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for p := range publishers {
		wg.Go(func() {
			user := fmt.Sprintf("user-%d", p%100)
			mine := make([]time.Duration, 0, b.N/publishers+1)
			defer func() {
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
			for next.Add(1) <= int64(b.N) {
				now := time.Now().UTC().Truncate(time.Microsecond)
				n := notify.Notification{
					ID: ids.New(now), UserID: user, Type: "comment",
					Title: "New comment", Message: "Ann replied to your post",
					Link: "/posts/42", CreatedAt: now,
				}
				start := time.Now()
				if _, err := s.Publish(ctx, notify.PublishInput{Notifications: []notify.Notification{n}}); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
	if c := s.w.commits.Load(); c > 0 {
		b.ReportMetric(float64(s.w.committed.Load())/float64(c), "requests/commit")
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}
