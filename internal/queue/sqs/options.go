package sqs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Defaults of Options, in one place.
const (
	DefaultPollers     = 1
	DefaultProcessors  = 10
	DefaultWaitTime    = 20 * time.Second // SQS's longest long poll
	DefaultBatchSize   = 10               // SQS's largest receive batch
	DefaultVisibility  = 30 * time.Second // used when the queue's own cannot be read
	DefaultStopTimeout = 30 * time.Second
	DefaultMaxBackoff  = 30 * time.Second
)

// Publisher is the publish path the consumer feeds: *notify.Service.
// PublishOnce must return an error of code notify.CodeInvalid for a
// publication that can never succeed, and only for one; any other error is
// taken as transient. duplicate reports a repeated idempotency key (nothing
// stored). Safe for concurrent use.
type Publisher interface {
	PublishOnce(ctx context.Context, p *notify.Publication) (receipts []notify.Receipt, duplicate bool, err error)
}

// Metrics receives the consumer's measurements (*metrics.Metrics implements
// it). Calls must be cheap and safe for concurrent use.
type Metrics interface {
	// QueueLag is the age of the oldest message of the batch just received.
	QueueLag(d time.Duration)
	// QueueMessages counts n messages by outcome: "processed", "duplicate",
	// "dead_lettered", "retried".
	QueueMessages(outcome string, n int)
	// Error counts one failure of kind ("queue").
	Error(kind string)
}

// Options configures a Consumer. QueueURL, Client and Publisher are
// required; every other zero value takes the default named beside it.
type Options struct {
	QueueURL string // the ingestion queue
	// DLQURL is a dead-letter queue to which poison messages are sent, with
	// their reason, and then deleted from QueueURL. Empty: rely on the
	// queue's redrive policy (a queue with neither is refused by New).
	DLQURL string

	Client    API
	Publisher Publisher

	// Pollers is the number of concurrent receive loops; each holds at most
	// one batch in flight (DefaultPollers).
	Pollers int
	// Processors bounds the publications in progress at once, across all
	// pollers (DefaultProcessors).
	Processors int
	// WaitTime is the long-poll duration of a receive, at most 20 s
	// (DefaultWaitTime).
	WaitTime time.Duration
	// BatchSize is the number of messages asked for per receive, 1 to 10
	// (DefaultBatchSize).
	BatchSize int
	// Visibility is the visibility timeout requested on receive and renewed
	// while a batch is processing. Zero: the queue's own VisibilityTimeout
	// (DefaultVisibility if it cannot be read).
	Visibility time.Duration
	// StopTimeout bounds how long in-flight batches may take to finish once
	// Run's context is done (DefaultStopTimeout).
	StopTimeout time.Duration
	// MaxBackoff caps the pause of a poller after a receive error or a batch
	// that failed transiently (DefaultMaxBackoff).
	MaxBackoff time.Duration

	Metrics Metrics      // default: none
	Logger  *slog.Logger // default: discard
}

// withDefaults returns o with every zero value defaulted, or an error naming
// the first invalid field.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.QueueURL == "":
		return o, errors.New("sqs: QueueURL is required")
	case o.Client == nil:
		return o, errors.New("sqs: Client is required")
	case o.Publisher == nil:
		return o, errors.New("sqs: Publisher is required")
	case o.Pollers < 0, o.Processors < 0, o.BatchSize < 0 || o.BatchSize > 10,
		o.WaitTime < 0 || o.WaitTime > 20*time.Second, o.Visibility < 0,
		o.StopTimeout < 0, o.MaxBackoff < 0:
		return o, errors.New("sqs: Options out of range")
	}
	if o.Pollers == 0 {
		o.Pollers = DefaultPollers
	}
	if o.Processors == 0 {
		o.Processors = DefaultProcessors
	}
	if o.WaitTime == 0 {
		o.WaitTime = DefaultWaitTime
	}
	// SQS counts in whole seconds, and 0 would be a short poll: a busy loop
	// on an idle queue.
	o.WaitTime = max(o.WaitTime.Round(time.Second), time.Second)
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

type nopMetrics struct{}

func (nopMetrics) QueueLag(time.Duration)    {}
func (nopMetrics) QueueMessages(string, int) {}
func (nopMetrics) Error(string)              {}
