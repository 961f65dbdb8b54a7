package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/herald-notify/herald/internal/app"
	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/notify"
	queue "github.com/herald-notify/herald/internal/queue/sqs"
	"github.com/herald-notify/herald/internal/sse"
	"github.com/herald-notify/herald/internal/testenv"
)

// Queue-to-browser figures against fauxqs (whose long poll returns as soon
// as a message is available, as AWS's does; figures in docs/queue.md):
//
//	go test -run '^$' -bench SQS -benchtime 2000x ./e2e/
//
// BenchmarkSQSThroughput fills the queue first, then measures how fast a
// consumer with 1 or 4 pollers drains it into an open SSE stream
// (messages/s). BenchmarkSQSLatency sends one message every 5 ms and reports
// the time from SendMessage to the event read from the stream (p50, p99).

func BenchmarkSQSThroughput(b *testing.B) {
	for _, pollers := range []int{1, 4} {
		b.Run(fmt.Sprintf("pollers=%d", pollers), func(b *testing.B) {
			bs := startBenchServer(b)
			bodies := make([]string, b.N)
			for i := range bodies {
				bodies[i] = benchBody(i)
			}
			sendBatch(b, bs.sqs.Client, bs.queue, bodies)
			events := bs.stream(b)
			b.ResetTimer()
			start := time.Now()
			bs.consume(b, queue.Options{Pollers: pollers})
			for range b.N {
				<-events
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}

func BenchmarkSQSLatency(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			bs := startBenchServer(b)
			events := bs.stream(b)
			bs.consume(b, queue.Options{Pollers: 4, BatchSize: batch})
			lat := make([]time.Duration, 0, b.N)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range b.N {
					lat = append(lat, <-events)
				}
			}()
			b.ResetTimer()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for i := range b.N {
				<-tick.C
				_, err := bs.sqs.Client.SendMessage(context.Background(), &sqs.SendMessageInput{
					QueueUrl: aws.String(bs.queue), MessageBody: aws.String(benchBody(i)),
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			<-done
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// benchBody is a publication for user "bench" that carries its send time.
func benchBody(i int) string {
	return body(map[string]any{
		"userId": "bench", "type": "bench", "title": strconv.Itoa(i),
		"data": map[string]any{"sentAt": time.Now().UnixNano()},
	})
}

// benchServer is a Herald without a queue of its own, an SQS server and a
// queue; consume attaches a consumer with chosen options.
type benchServer struct {
	app   *app.App
	url   string
	sqs   *testenv.SQSServer
	queue string
}

func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	srv := testenv.SQS(b)
	env := map[string]string{
		"HERALD_ADDR":          "127.0.0.1:0",
		"HERALD_DB":            "sqlite://" + filepath.Join(b.TempDir(), "herald.db"),
		"HERALD_JWT_SECRET":    testSecret,
		"HERALD_PUBLISHER_KEY": testKey,
		"HERALD_DRAIN_TIMEOUT": "0s",
		"HERALD_CONN_QUEUE":    "100000",
	}
	cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
		_ = a.Close()
	})
	return &benchServer{app: a, url: "http://" + a.Addr(), sqs: srv, queue: sqsQueue(b, srv)["HERALD_QUEUE"]}
}

// consume runs a consumer of the bench queue into the server's service
// until the benchmark ends.
func (bs *benchServer) consume(b *testing.B, o queue.Options) {
	o.QueueURL, o.Client, o.Publisher = bs.queue, bs.sqs.Client, bs.app.Service
	c, err := queue.New(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
}

// stream opens an SSE stream for user "bench" and returns, per
// notification, the time since its sentAt.
func (bs *benchServer) stream(b *testing.B) <-chan time.Duration {
	b.Helper()
	tok, err := auth.SignHS256([]byte(testSecret), "bench", time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", bs.url+"/api/notifications/sse", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req) //nolint:bodyclose // closed in b.Cleanup below, after the reading goroutine ends
	if err != nil || resp.StatusCode != http.StatusOK {
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		b.Fatalf("stream: %v %v", resp, err)
	}
	out := make(chan time.Duration, 1<<16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		dec := sse.NewDecoder(resp.Body)
		for {
			ev, err := dec.Next()
			if err != nil {
				return
			}
			if ev.Name != notify.EventNotification {
				continue
			}
			var n struct {
				Data struct{ SentAt int64 } `json:"data"`
			}
			if json.Unmarshal([]byte(ev.Data), &n) == nil {
				out <- time.Since(time.Unix(0, n.Data.SentAt))
			}
		}
	}()
	b.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return out
}
