package sqs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/herald-notify/herald/internal/bus/memory"
	"github.com/herald-notify/herald/internal/notify"
	queue "github.com/herald-notify/herald/internal/queue/sqs"
	"github.com/herald-notify/herald/internal/store/sqlite"
	"github.com/herald-notify/herald/internal/testenv"
)

// env is one test's SQS server, queues, store and service.
type env struct {
	srv     *testenv.SQSServer
	queue   string // the ingestion queue
	store   notify.Store
	service *notify.Service
	metrics *fakeMetrics
}

// newEnv starts an SQS server and opens a store. attrs are the ingestion
// queue's attributes.
func newEnv(t *testing.T, attrs map[string]string) *env {
	t.Helper()
	srv := testenv.SQS(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus := memory.New()
	t.Cleanup(func() {
		_ = bus.Close()
		_ = st.Close()
	})
	return &env{
		srv: srv, queue: srv.CreateQueue(t, attrs), store: st,
		service: notify.NewService(st, bus, slog.New(slog.DiscardHandler)),
		metrics: newFakeMetrics(),
	}
}

// redrive returns queue attributes with a redrive policy to a new DLQ,
// and the DLQ's URL.
func (e *env) redriveTo(t *testing.T, maxReceives int, visibility string) (map[string]string, string) {
	dlq := e.srv.CreateQueue(t, nil)
	return map[string]string{
		"VisibilityTimeout": visibility,
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, e.srv.QueueARN(t, dlq), maxReceives),
	}, dlq
}

// options returns consumer options for e with short waits; mod adjusts them.
func (e *env) options(t *testing.T, mod func(*queue.Options)) queue.Options {
	o := queue.Options{
		QueueURL: e.queue, Client: e.srv.Client, Publisher: e.service,
		WaitTime: time.Second, Visibility: 2 * time.Second, MaxBackoff: 200 * time.Millisecond,
		Metrics: e.metrics, Logger: testLogger(t),
	}
	if mod != nil {
		mod(&o)
	}
	return o
}

// run starts a consumer; the returned stop cancels it and waits for Run.
func (e *env) run(t *testing.T, o queue.Options) (stop func()) {
	t.Helper()
	c, err := queue.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// testLogger logs to t at debug level when -v is given.
func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// send sends body to url and returns the message id.
func (e *env) send(t *testing.T, url, body string) string {
	t.Helper()
	out, err := e.srv.Client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String(body),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// pub is a valid publication body for user.
func pub(user, title string) string {
	b, _ := json.Marshal(map[string]any{"userId": user, "type": "test", "title": title})
	return string(b)
}

// inbox returns user's notifications' titles, newest first.
func (e *env) inbox(t *testing.T, user string) []string {
	t.Helper()
	page, err := e.store.List(context.Background(), user, notify.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, n := range page.Notifications {
		titles = append(titles, n.Title)
	}
	return titles
}

// receiveAll receives what is visible on url within wait.
func (e *env) receiveAll(t *testing.T, url string, wait time.Duration) []types.Message {
	t.Helper()
	out, err := e.srv.Client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: int32(wait / time.Second),
		MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeMetrics records the consumer's counts.
type fakeMetrics struct {
	mu       sync.Mutex
	outcomes map[string]int
	errors   int
	lag      bool
}

func newFakeMetrics() *fakeMetrics { return &fakeMetrics{outcomes: map[string]int{}} }

func (m *fakeMetrics) QueueLag(time.Duration) {
	m.mu.Lock()
	m.lag = true
	m.mu.Unlock()
}

func (m *fakeMetrics) QueueMessages(outcome string, n int) {
	m.mu.Lock()
	m.outcomes[outcome] += n
	m.mu.Unlock()
}

func (m *fakeMetrics) Error(string) {
	m.mu.Lock()
	m.errors++
	m.mu.Unlock()
}

func (m *fakeMetrics) count(outcome string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.outcomes[outcome]
}

// countingPublisher wraps a publisher, counting calls by idempotency key,
// with an optional hook run before each publish.
type countingPublisher struct {
	next   queue.Publisher
	before func(ctx context.Context, p *notify.Publication) error

	mu    sync.Mutex
	calls map[string]int
}

func (c *countingPublisher) PublishOnce(ctx context.Context, p *notify.Publication) ([]notify.Receipt, bool, error) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[p.IdempotencyKey]++
	c.mu.Unlock()
	if c.before != nil {
		if err := c.before(ctx, p); err != nil {
			return nil, false, err
		}
	}
	return c.next.PublishOnce(ctx, p)
}

func (c *countingPublisher) total() (keys, calls int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.calls {
		keys++
		calls += n
	}
	return keys, calls
}

// flakyAPI wraps the SQS client: when deleteHook returns a non-nil output,
// DeleteMessageBatch answers it without deleting anything.
type flakyAPI struct {
	queue.API
	deleteHook func(in *sqs.DeleteMessageBatchInput) *sqs.DeleteMessageBatchOutput
}

func (f *flakyAPI) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if out := f.deleteHook(in); out != nil {
		return out, nil
	}
	return f.API.DeleteMessageBatch(ctx, in, opts...)
}

// pretendDeleted answers a delete as if it succeeded: a crash between
// commit and delete, as far as the queue can tell.
func pretendDeleted(in *sqs.DeleteMessageBatchInput) *sqs.DeleteMessageBatchOutput {
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return out
}
