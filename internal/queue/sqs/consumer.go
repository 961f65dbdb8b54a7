// Package sqs is Herald's ingestion queue consumer: it long-polls an AWS SQS
// queue (or an SQS-compatible server), hands each message's publication to
// the same publish path as the HTTP API, and deletes a message only once
// what it carries is durably stored.
//
// Delivery is at least once from SQS and exactly once as users see it: a
// message without its own idempotencyKey gets one derived from its SQS
// MessageId, so a redelivered or duplicated message is stored and delivered
// once. Visibility is extended while a batch is still processing. A poison
// message (invalid JSON, or a publication that fails validation) never
// blocks the queue: with Options.DLQURL it is sent there, with its reason as
// a message attribute, and deleted; otherwise it is made visible again at
// once so that the queue's redrive policy moves it to the queue's
// dead-letter queue after maxReceiveCount receives. A transient failure
// (the store is down) leaves the message for redelivery.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ErrNoDeadLetter is returned by New for a queue that has no redrive policy
// when no dead-letter queue is configured either: its poison messages would
// have nowhere to go.
var ErrNoDeadLetter = errors.New("the queue has no redrive policy and no dead-letter queue is configured")

// Consumer consumes one queue. Build it with New; Run it once. Its methods
// are safe for concurrent use.
type Consumer struct {
	opts       Options
	visibility time.Duration // requested on receive and on each extension
	// maxReceives is the queue's redrive maxReceiveCount, 0 without a
	// redrive policy.
	maxReceives int
	processors  chan struct{} // a token per publication in progress
	undeleted   *recentSet    // committed (or dead-lettered) but not deleted

	runOnce sync.Once
}

// New reads the queue's attributes (its visibility timeout and redrive
// policy) and returns a Consumer. It fails when the queue cannot be read or
// when poison messages would have no dead-letter path (ErrNoDeadLetter).
func New(ctx context.Context, o Options) (*Consumer, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	out, err := o.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(o.QueueURL),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameVisibilityTimeout, types.QueueAttributeNameRedrivePolicy,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("read queue attributes: %w", err)
	}
	c := &Consumer{
		opts:       o,
		visibility: o.Visibility,
		processors: make(chan struct{}, o.Processors),
		undeleted:  newRecentSet(recentCap),
	}
	if c.visibility == 0 {
		c.visibility = DefaultVisibility
		if s, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)]); err == nil && s > 0 {
			c.visibility = time.Duration(s) * time.Second
		}
	}
	c.visibility = max(c.visibility.Round(time.Second), time.Second)
	if rp := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]; rp != "" {
		c.maxReceives, err = parseRedrive(rp)
		if err != nil {
			return nil, err
		}
	}
	if o.DLQURL == "" && c.maxReceives == 0 {
		return nil, ErrNoDeadLetter
	}
	return c, nil
}

// parseRedrive returns the maxReceiveCount of a RedrivePolicy attribute.
func parseRedrive(policy string) (int, error) {
	var rp struct {
		MaxReceiveCount json.Number `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(policy), &rp); err != nil {
		return 0, fmt.Errorf("parse redrive policy: %w", err)
	}
	n, err := strconv.Atoi(rp.MaxReceiveCount.String())
	if err != nil || n < 1 {
		return 0, fmt.Errorf("parse redrive policy: maxReceiveCount %q", rp.MaxReceiveCount)
	}
	return n, nil
}

// Ping checks that the queue is reachable (a readiness check).
func (c *Consumer) Ping(ctx context.Context) error {
	_, err := c.opts.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(c.opts.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("get queue attributes: %w", err)
	}
	return nil
}

// Run consumes until ctx is done, then stops: no new receive is started (one
// in progress is abandoned; its messages return to the queue when their
// visibility times out), in-flight batches are finished within
// Options.StopTimeout, and only what committed is deleted. Run returns nil
// once every poller has stopped; a second call returns an error at once.
func (c *Consumer) Run(ctx context.Context) error {
	first := false
	c.runOnce.Do(func() { first = true })
	if !first {
		return errors.New("sqs: Run called twice")
	}
	// Work on batches already received outlives ctx by up to StopTimeout.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	c.opts.Logger.Info("queue consumer started", "queue", c.opts.QueueURL,
		"pollers", c.opts.Pollers, "processors", c.opts.Processors,
		"visibility", c.visibility, "dlq", c.opts.DLQURL != "", "maxReceiveCount", c.maxReceives)
	var wg sync.WaitGroup
	for range c.opts.Pollers {
		wg.Go(func() { c.poll(ctx, work) })
	}
	stopped := make(chan struct{})
	go func() {
		wg.Wait()
		close(stopped)
	}()

	select {
	case <-stopped:
	case <-ctx.Done():
		timer := time.NewTimer(c.opts.StopTimeout)
		defer timer.Stop()
		select {
		case <-stopped:
		case <-timer.C:
			c.opts.Logger.Warn("queue consumer: stop timeout; abandoning in-flight messages to redelivery")
			cancelWork()
			<-stopped
		}
	}
	c.opts.Logger.Info("queue consumer stopped")
	return nil
}

// poll is one receive loop: receive a batch, process it, repeat, until ctx
// is done. Batches are processed under work.
func (c *Consumer) poll(ctx, work context.Context) {
	var failures int
	for ctx.Err() == nil {
		out, err := c.opts.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(c.opts.QueueURL),
			MaxNumberOfMessages: int32(c.opts.BatchSize),
			WaitTimeSeconds:     int32(c.opts.WaitTime / time.Second),
			VisibilityTimeout:   int32(c.visibility / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameSentTimestamp,
				types.MessageSystemAttributeNameApproximateReceiveCount,
			},
			// The legacy field too: some SQS-compatible servers
			// (local-aws-sqs 2.0, say) read only this one.
			AttributeNames: []types.QueueAttributeName{ //nolint:staticcheck // see above
				types.QueueAttributeName(types.MessageSystemAttributeNameSentTimestamp),
				types.QueueAttributeName(types.MessageSystemAttributeNameApproximateReceiveCount),
			},
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.opts.Metrics.Error("queue")
			c.opts.Logger.Warn("queue receive failed", "err", err)
			failures++
			c.pause(ctx, failures)
			continue
		}
		if len(out.Messages) == 0 {
			continue
		}
		c.reportLag(out.Messages)
		if c.processBatch(work, out.Messages) {
			failures = 0
		} else {
			failures++
			c.pause(ctx, failures)
		}
	}
}

// pause waits before the next receive after failures consecutive failures:
// 1 s doubling up to MaxBackoff, or until ctx is done.
func (c *Consumer) pause(ctx context.Context, failures int) {
	d := time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(failures-1)), float64(c.opts.MaxBackoff)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// reportLag reports the age of the oldest message of a batch.
func (c *Consumer) reportLag(msgs []types.Message) {
	oldest := int64(math.MaxInt64)
	for _, m := range msgs {
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			oldest = min(oldest, ms)
		}
	}
	if oldest != math.MaxInt64 {
		c.opts.Metrics.QueueLag(time.Since(time.UnixMilli(oldest)))
	}
}
