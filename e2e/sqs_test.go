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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/herald-notify/herald/internal/app"
	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/testenv"
)

// sqsQueue creates an ingestion queue with a redrive policy to a fresh DLQ
// and returns the environment that points Herald at it.
func sqsQueue(t testing.TB, srv *testenv.SQSServer) map[string]string {
	t.Helper()
	dlq := srv.CreateQueue(t, nil)
	q := srv.CreateQueue(t, map[string]string{
		"VisibilityTimeout": "30",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, srv.QueueARN(t, dlq)),
	})
	return map[string]string{"HERALD_QUEUE": q, "HERALD_SQS_ENDPOINT": srv.Endpoint}
}

// sendBatch sends bodies to queue, ten per call.
func sendBatch(t testing.TB, client *sqs.Client, queue string, bodies []string) {
	t.Helper()
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		var entries []types.SendMessageBatchRequestEntry
		for i, b := range bodies[:n] {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)})
		}
		out, err := client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue), Entries: entries})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Failed) > 0 {
			t.Fatalf("send: %d failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
		bodies = bodies[n:]
	}
}

func body(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Messages sent to the queue reach an open stream, each once: a repeated
// message, and the array form, included.
func TestSQSMessagesReachOpenStreamsOnce(t *testing.T) {
	t.Parallel()
	srv := testenv.SQS(t)
	env := sqsQueue(t, srv)
	s := startServer(t, func(e map[string]string) { maps(e, env) })
	st := s.openStream(t, "ann", "")
	st.nextNamed(notify.EventConnected)

	if code, b := do(t, "GET", s.URL+"/readyz", "", nil); code != http.StatusOK {
		t.Fatalf("readyz %d %s", code, b)
	}

	dup := body(map[string]any{"userId": "ann", "type": "test", "title": "dup", "idempotencyKey": "order-1"})
	bodies := []string{dup, dup,
		`[` + body(map[string]any{"userId": "ann", "type": "test", "title": "array 0"}) + `,` +
			body(map[string]any{"userId": "ann", "type": "test", "title": "array 1"}) + `]`}
	var want []string
	for i := range 7 { // ten messages fill one receive batch at once
		title := fmt.Sprintf("m%d", i)
		bodies = append(bodies, body(map[string]any{"userId": "ann", "type": "test", "title": title}))
		want = append(want, title)
	}
	want = append(want, "dup", "array 0", "array 1")
	sendBatch(t, srv.Client, env["HERALD_QUEUE"], bodies)

	var got []string
	for range want {
		var n notify.Notification
		mustUnmarshal(t, st.nextNamed(notify.EventNotification).Data, &n)
		got = append(got, n.Title)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stream got %q, want %q", got, want)
	}
	page, err := s.App.Store.List(context.Background(), "ann", notify.ListQuery{Limit: 100})
	if err != nil || len(page.Notifications) != len(want) {
		t.Fatalf("inbox holds %d notifications (%v), want %d", len(page.Notifications), err, len(want))
	}
}

// herald worker: the consumer with health and metrics only.
func TestWorkerConsumesAndServesOnlyHealthAndMetrics(t *testing.T) {
	t.Parallel()
	srv := testenv.SQS(t)
	env := map[string]string{
		"HERALD_ADDR":          "127.0.0.1:0",
		"HERALD_DB":            "sqlite://" + filepath.Join(t.TempDir(), "herald.db"),
		"HERALD_JWT_SECRET":    testSecret,
		"HERALD_PUBLISHER_KEY": testKey,
		"HERALD_DRAIN_TIMEOUT": "0s",
	}
	maps(env, sqsQueue(t, srv))
	cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	if err := a.WorkerOnly(); err != nil {
		t.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	base := "http://" + a.Addr()
	for path, want := range map[string]int{
		"/healthz": 200, "/readyz": 200, "/metrics": 200,
		"/api/notifications/sse": 404, "/api/notifications": 404,
	} {
		if code, b := do(t, "GET", base+path, token(t, "ann", time.Hour), nil); code != want {
			t.Errorf("GET %s = %d %s, want %d", path, code, b, want)
		}
	}
	if code, _ := do(t, "POST", base+"/api/publish/notifications", testKey, `{"userId":"ann","type":"t","title":"x"}`); code != 404 {
		t.Errorf("publish API on a worker: %d, want 404", code)
	}

	bodies := make([]string, 10)
	for i := range bodies {
		bodies[i] = body(map[string]any{"userId": "ann", "type": "test", "title": fmt.Sprint(i)})
	}
	sendBatch(t, srv.Client, env["HERALD_QUEUE"], bodies)
	waitFor(t, func() bool {
		page, err := a.Store.List(context.Background(), "ann", notify.ListQuery{Limit: 100})
		return err == nil && len(page.Notifications) == len(bodies)
	})
}

// A queue whose poison messages would have nowhere to go, or that cannot be
// read, stops start-up with a line naming the setting.
func TestQueueMisconfigurationStopsStartup(t *testing.T) {
	t.Parallel()
	srv := testenv.SQS(t)
	noDLQ := srv.CreateQueue(t, nil)
	for queue, want := range map[string]string{
		noDLQ: "HERALD_SQS_DLQ (--sqs-dlq): required",
		srv.Endpoint + "/123456789012/no-such-queue": "HERALD_QUEUE (--queue):",
	} {
		env := map[string]string{
			"HERALD_DB":            "sqlite://" + filepath.Join(t.TempDir(), "herald.db"),
			"HERALD_JWT_SECRET":    testSecret,
			"HERALD_PUBLISHER_KEY": testKey,
			"HERALD_QUEUE":         queue,
			"HERALD_SQS_ENDPOINT":  srv.Endpoint,
		}
		cfg, _, err := config.Load(nil, func(k string) string { return env[k] }, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			_ = a.Close()
			t.Errorf("queue %s: started", queue)
			continue
		}
		if got := err.Error(); !strings.HasPrefix(got, want) || strings.Contains(got, "\n") {
			t.Errorf("queue %s: error %q, want one line starting %q", queue, got, want)
		}
	}
}

func maps(dst, src map[string]string) {
	for k, v := range src {
		dst[k] = v
	}
}
