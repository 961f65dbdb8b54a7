package sqlite

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	msqlite "modernc.org/sqlite"

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

// BenchmarkPublishManyUsers is BenchmarkPublish over 10,000 users whose
// inboxes already hold 20 notifications each, recipients in random order:
// the shape of the load generator's targeted scenario, where nearly every
// notification of a batch changes pages of its own. It reports the write
// system calls and bytes per notification (from /proc/self/io), which a
// busy machine does not blur.
//
//	go test -run '^$' -bench BenchmarkPublishManyUsers -benchtime 20000x ./internal/store/sqlite
func BenchmarkPublishManyUsers(b *testing.B) {
	s := openTemp(b, Options{})
	const users, prefill = 10000, 5
	ctx := context.Background()
	var ids notify.IDGen
	batch := make([]notify.Notification, 0, 500)
	for i := range users * prefill {
		now := time.Now().UTC().Truncate(time.Microsecond)
		batch = append(batch, notify.Notification{ID: ids.New(now), UserID: fmt.Sprintf("user-%d", i%users),
			Type: "comment", Title: "New comment", Message: "Ann replied to your post", CreatedAt: now})
		if len(batch) == cap(batch) {
			if _, err := s.Publish(ctx, notify.PublishInput{Notifications: batch}); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	benchPublishTo(b, s, 64, func(i int64) string { return fmt.Sprintf("user-%d", (i*7919)%users) })
}

func benchPublish(b *testing.B, opts Options, publishers int) {
	s := openTemp(b, opts)
	benchPublishTo(b, s, publishers, nil)
}

// benchPublishTo runs b.N single-recipient publishes on s from publishers
// goroutines; user picks the recipient of the i-th (nil: 100 users, one
// per publisher).
func benchPublishTo(b *testing.B, s *Store, publishers int, user func(i int64) string) {
	var (
		ids  notify.IDGen
		next atomic.Int64
		wg   sync.WaitGroup
	)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	io0 := procIO(b)
	pages0, misses0 := writerPages(b, s)
	commits0, committed0 := s.w.commits.Load(), s.w.committed.Load()
	b.ResetTimer()
	for p := range publishers {
		wg.Go(func() {
			recipient := fmt.Sprintf("user-%d", p%100)
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if user != nil {
					recipient = user(i)
				}
				now := time.Now().UTC().Truncate(time.Microsecond)
				n := notify.Notification{
					ID: ids.New(now), UserID: recipient, Type: "comment",
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
	io1 := procIO(b)
	pages1, misses1 := writerPages(b, s)
	b.ReportMetric(float64(pages1-pages0)/float64(b.N), "wal-pages/notification")
	b.ReportMetric(float64(misses1-misses0)/float64(b.N), "cache-misses/notification")
	b.ReportMetric(float64(io1["syscw"]-io0["syscw"])/float64(b.N), "write-calls/notification")
	b.ReportMetric(float64(io1["wchar"]-io0["wchar"])/float64(b.N), "written-B/notification")
	if c := s.w.commits.Load() - commits0; c > 0 {
		b.ReportMetric(float64(s.w.committed.Load()-committed0)/float64(c), "requests/commit")
	}
}

// writerPages returns the pages the writer's connection has written to the
// WAL and the pages it missed in its cache (read from the file), so far.
func writerPages(b *testing.B, s *Store) (written, missed int) {
	err := s.w.conn.Raw(func(dc any) error {
		st := dc.(interface {
			Status(op msqlite.DBStatusOp, reset bool) (int, int, error)
		})
		var err error
		if written, _, err = st.Status(msqlite.DBStatusCacheWrite, false); err != nil {
			return err
		}
		missed, _, err = st.Status(msqlite.DBStatusCacheMiss, false)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return written, missed
}

// procIO returns the counters of /proc/self/io (wchar, syscw, …).
func procIO(b *testing.B) map[string]int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skipf("no /proc/self/io: %v", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			out[k] = n
		}
	}
	return out
}

// cpuTime returns the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
