package sqs_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/herald-notify/herald/internal/notify"
	queue "github.com/herald-notify/herald/internal/queue/sqs"
)

func TestConsumesBothFormsAndDeletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	e.send(t, e.queue, pub("u1", "one"))
	e.send(t, e.queue, `[`+pub("u1", "two")+`,`+pub("u2", "three")+`]`)
	e.run(t, e.options(t, func(o *queue.Options) { o.DLQURL = dlq }))

	waitFor(t, "three notifications", func() bool { return len(e.inbox(t, "u1")) == 2 && len(e.inbox(t, "u2")) == 1 })
	waitFor(t, "two processed messages", func() bool { return e.metrics.count("processed") >= 2 })
	if got := e.receiveAll(t, e.queue, 0); len(got) != 0 {
		t.Errorf("%d messages left on the queue after commit", len(got))
	}
	if !e.metrics.lag {
		t.Error("queue lag not reported")
	}
}

func TestDuplicateMessagesAreStoredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	body := `{"userId":"u1","type":"test","title":"once","idempotencyKey":"evt-1"}`
	e.send(t, e.queue, body)
	e.send(t, e.queue, body)
	e.send(t, e.queue, pub("u1", "sentinel"))
	e.run(t, e.options(t, func(o *queue.Options) { o.DLQURL = dlq }))

	waitFor(t, "three settled messages", func() bool {
		return e.metrics.count("processed")+e.metrics.count("duplicate") >= 3
	})
	got := e.inbox(t, "u1")
	slices.Sort(got)
	if !slices.Equal(got, []string{"once", "sentinel"}) {
		t.Errorf("inbox %q, want once and sentinel", got)
	}
	if n := e.metrics.count("duplicate"); n != 1 {
		t.Errorf("duplicate messages counted %d, want 1 (the repeated idempotency key)", n)
	}
}

// A consumer that commits and then dies before deleting: the message comes
// back after its visibility timeout and is stored once all the same.
func TestRedeliveryAfterCrashBetweenCommitAndDeleteStoresOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	e.send(t, e.queue, pub("u1", "exactly once"))

	crashing := &flakyAPI{API: e.srv.Client, deleteHook: pretendDeleted}
	first := newFakeMetrics()
	stop := e.run(t, e.options(t, func(o *queue.Options) {
		o.Client, o.DLQURL, o.Metrics, o.Visibility = crashing, dlq, first, time.Second
	}))
	waitFor(t, "the first commit", func() bool { return first.count("processed") >= 1 })
	stop() // "crash": the message was never deleted

	pubs := &countingPublisher{next: e.service}
	e.run(t, e.options(t, func(o *queue.Options) { o.DLQURL, o.Publisher = dlq, pubs }))
	// The store recognises the message's idempotency key (sqs:<MessageId>):
	// the redelivery is counted as a duplicate and deleted.
	waitFor(t, "the redelivery", func() bool { return e.metrics.count("duplicate") >= 1 })
	if got := e.inbox(t, "u1"); len(got) != 1 {
		t.Errorf("inbox %q, want one notification", got)
	}
	if keys, calls := pubs.total(); keys != 1 || calls != 1 {
		t.Errorf("redelivery published %d times under %d keys, want 1 under 1", calls, keys)
	}
	if got := e.receiveAll(t, e.queue, 2*time.Second); len(got) != 0 {
		t.Errorf("%d messages left on the queue", len(got))
	}
}

// A delete that fails is retried when the message comes back, without
// publishing it again.
func TestFailedDeleteIsRetriedOnRedelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	e.send(t, e.queue, pub("u1", "delete me later"))

	var failed atomic.Bool
	api := &flakyAPI{API: e.srv.Client, deleteHook: func(in *sqs.DeleteMessageBatchInput) *sqs.DeleteMessageBatchOutput {
		if failed.Swap(true) {
			return nil
		}
		out := &sqs.DeleteMessageBatchOutput{}
		for _, en := range in.Entries {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{
				Id: en.Id, Code: aws.String("InternalError"), SenderFault: false, Message: aws.String("injected"),
			})
		}
		return out
	}}
	pubs := &countingPublisher{next: e.service}
	e.run(t, e.options(t, func(o *queue.Options) {
		o.Client, o.DLQURL, o.Publisher, o.Visibility = api, dlq, pubs, time.Second
	}))
	waitFor(t, "the redelivery to be deleted", func() bool { return e.metrics.count("duplicate") >= 1 })
	if _, calls := pubs.total(); calls != 1 {
		t.Errorf("published %d times, want 1", calls)
	}
	if got := e.inbox(t, "u1"); len(got) != 1 {
		t.Errorf("inbox %q, want one notification", got)
	}
}

func TestPoisonMessagesGoToTheExplicitDLQ(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"VisibilityTimeout": "30"}) // no redrive policy
	dlq := e.srv.CreateQueue(t, nil)
	badJSON := e.send(t, e.queue, `{"userId":`)
	invalid := e.send(t, e.queue, `{"userId":"u1","type":"NOT VALID","title":"x"}`)
	e.send(t, e.queue, pub("u1", "good"))
	e.run(t, e.options(t, func(o *queue.Options) { o.DLQURL = dlq }))

	waitFor(t, "two dead-lettered messages", func() bool { return e.metrics.count("dead_lettered") >= 2 })
	var got []types.Message
	waitFor(t, "the DLQ to hold both", func() bool {
		got = append(got, e.receiveAll(t, dlq, 0)...)
		return len(got) >= 2
	})
	reasons := map[string]string{}
	for _, m := range got {
		src := m.MessageAttributes[queue.AttrSourceMessageID]
		reasons[aws.ToString(src.StringValue)] = aws.ToString(m.MessageAttributes[queue.AttrReason].StringValue)
	}
	if r := reasons[badJSON]; !strings.HasPrefix(r, "body:") {
		t.Errorf("bad JSON reason %q", r)
	}
	if r := reasons[invalid]; !strings.HasPrefix(r, "type:") {
		t.Errorf("invalid publication reason %q", r)
	}
	if got := e.inbox(t, "u1"); !slices.Equal(got, []string{"good"}) {
		t.Errorf("inbox %q: the good message behind the poison ones must be stored", got)
	}
	if left := e.receiveAll(t, e.queue, 0); len(left) != 0 {
		t.Errorf("%d messages left on the source queue", len(left))
	}
}

func TestPoisonMessagesReachTheRedriveDLQ(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	attrs, dlq := e.redriveTo(t, 5, "30")
	e.queue = e.srv.CreateQueue(t, attrs)
	poison := e.send(t, e.queue, `not json`)
	e.send(t, e.queue, pub("u1", "good"))
	e.run(t, e.options(t, nil)) // no DLQURL: the redrive policy moves it

	waitFor(t, "the good message", func() bool { return len(e.inbox(t, "u1")) == 1 })
	var got []types.Message
	waitFor(t, "the poison message in the DLQ", func() bool {
		got = append(got, e.receiveAll(t, dlq, 0)...)
		return len(got) > 0
	})
	if id := aws.ToString(got[0].MessageId); id != poison {
		t.Errorf("DLQ holds %s, want %s", id, poison)
	}
}

func TestNewRefusesAQueueWithoutDeadLetterPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, err := queue.New(context.Background(), e.options(t, nil))
	if !errors.Is(err, queue.ErrNoDeadLetter) {
		t.Fatalf("New = %v, want ErrNoDeadLetter", err)
	}
}

// A processor slower than the visibility timeout keeps its messages: a
// second poller never receives them meanwhile.
func TestVisibilityIsExtendedWhileProcessing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	for i := range 3 {
		e.send(t, e.queue, pub("u1", "slow "+string(rune('a'+i))))
	}
	pubs := &countingPublisher{next: e.service, before: func(ctx context.Context, _ *notify.Publication) error {
		select {
		case <-time.After(7 * time.Second): // > 2 visibility timeouts
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	e.run(t, e.options(t, func(o *queue.Options) {
		// 3 s: without extension, each message would be received again
		// twice while it is processed.
		o.DLQURL, o.Publisher, o.Visibility, o.Pollers = dlq, pubs, 3*time.Second, 3
	}))
	waitFor(t, "three processed messages", func() bool { return e.metrics.count("processed") >= 3 })
	if keys, calls := pubs.total(); keys != 3 || calls != 3 {
		t.Errorf("%d publish calls for %d messages: redelivered while processing", calls, keys)
	}
}

func TestTransientFailureLeavesTheMessageForRedelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	e.send(t, e.queue, pub("u1", "after the outage"))
	var calls atomic.Int32
	pubs := &countingPublisher{next: e.service, before: func(context.Context, *notify.Publication) error {
		if calls.Add(1) == 1 {
			return notify.Errorf(notify.CodeUnavailable, "store down")
		}
		return nil
	}}
	e.run(t, e.options(t, func(o *queue.Options) { o.DLQURL, o.Publisher, o.Visibility = dlq, pubs, time.Second }))
	waitFor(t, "the retry to commit", func() bool { return e.metrics.count("processed") >= 1 })
	if n := e.metrics.count("retried"); n != 1 {
		t.Errorf("retried = %d, want 1", n)
	}
	if got := e.inbox(t, "u1"); len(got) != 1 {
		t.Errorf("inbox %q", got)
	}
	if left := e.receiveAll(t, dlq, 0); len(left) != 0 {
		t.Errorf("a transient failure was dead-lettered")
	}
}

// Stopping finishes the publication in flight and deletes it; Run returns
// only then.
func TestGracefulStopFinishesInFlightMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	e.send(t, e.queue, pub("u1", "in flight"))
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	pubs := &countingPublisher{next: e.service, before: func(context.Context, *notify.Publication) error {
		once.Do(func() { close(started) })
		<-release
		return nil
	}}
	stop := e.run(t, e.options(t, func(o *queue.Options) { o.DLQURL, o.Publisher, o.Visibility = dlq, pubs, time.Second }))
	<-started
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("Run returned with a publication in flight")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	<-stopped
	if got := e.inbox(t, "u1"); len(got) != 1 {
		t.Errorf("inbox %q", got)
	}
	if n := e.metrics.count("processed"); n != 1 {
		t.Errorf("processed = %d, want 1", n)
	}
	if left := e.receiveAll(t, e.queue, 2*time.Second); len(left) != 0 {
		t.Errorf("the committed message was not deleted before Run returned")
	}
}

// Past the stop timeout, what has not committed is left to redelivery.
func TestStopTimeoutLeavesUncommittedMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	id := e.send(t, e.queue, pub("u1", "never commits"))
	started := make(chan struct{})
	var once sync.Once
	pubs := &countingPublisher{next: e.service, before: func(ctx context.Context, _ *notify.Publication) error {
		once.Do(func() { close(started) })
		<-ctx.Done()
		return ctx.Err()
	}}
	stop := e.run(t, e.options(t, func(o *queue.Options) {
		o.DLQURL, o.Publisher, o.Visibility, o.StopTimeout = dlq, pubs, time.Second, 100*time.Millisecond
	}))
	<-started
	stop()
	var left []types.Message
	waitFor(t, "the message to come back", func() bool {
		left = append(left, e.receiveAll(t, e.queue, time.Second)...)
		return len(left) > 0
	})
	if got := aws.ToString(left[0].MessageId); got != id {
		t.Errorf("got %s back, want %s", got, id)
	}
}
