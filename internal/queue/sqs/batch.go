package sqs

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/herald-notify/herald/internal/notify"
)

// settleTimeout bounds the deletes and visibility changes that settle a
// batch; they run even after the stop timeout cancelled the work.
const settleTimeout = 10 * time.Second

// outcome is what became of one message.
type outcome int

const (
	outcomeTransient    outcome = iota // left for redelivery
	outcomeCommitted                   // stored: delete
	outcomeDuplicate                   // stored before, not yet deleted: delete
	outcomeDeadLettered                // sent to Options.DLQURL: delete
	outcomeRedrive                     // poison, left for the redrive policy: visible again now
	outcomeRedriveLast                 // outcomeRedrive at maxReceiveCount: SQS moves it next
)

// metric names the QueueMessages outcome of o.
func (o outcome) metric() string {
	switch o {
	case outcomeCommitted:
		return "processed"
	case outcomeDuplicate:
		return "duplicate"
	case outcomeDeadLettered, outcomeRedriveLast:
		return "dead_lettered"
	default:
		return "retried"
	}
}

// deletes reports whether a message of outcome o is deleted.
func (o outcome) deletes() bool {
	return o == outcomeCommitted || o == outcomeDuplicate || o == outcomeDeadLettered
}

// processBatch publishes a batch's messages, at most Options.Processors at a
// time across the consumer, keeping the unfinished ones invisible, then
// settles the batch: deletes what committed or was dead-lettered, makes
// poison messages visible again for the redrive policy, and leaves
// transient failures to time out. It reports whether no message failed
// transiently.
func (c *Consumer) processBatch(ctx context.Context, msgs []types.Message) bool {
	msgs = uniqueMessages(msgs)
	outcomes := make([]outcome, len(msgs)) // outcomeTransient until handled
	hb := c.startHeartbeat(ctx, msgs)

	var wg sync.WaitGroup
dispatch:
	for i := range msgs {
		select {
		case c.processors <- struct{}{}:
		case <-ctx.Done():
			// Stop timeout: the rest stays invisible until its visibility
			// times out, then is redelivered.
			for j := i; j < len(msgs); j++ {
				hb.done(j)
			}
			break dispatch
		}
		wg.Go(func() {
			defer func() { <-c.processors }()
			outcomes[i] = c.handle(ctx, &msgs[i])
			hb.done(i)
			c.opts.Logger.Debug("queue message handled", "messageId", aws.ToString(msgs[i].MessageId),
				"outcome", outcomes[i].metric(), "receiveCount", receiveCount(&msgs[i]))
		})
	}
	wg.Wait()
	hb.stop()

	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	c.deleteSettled(settle, msgs, outcomes)
	c.releasePoison(settle, msgs, outcomes)

	counts := map[string]int{}
	ok := true
	for _, o := range outcomes {
		counts[o.metric()]++
		ok = ok && o != outcomeTransient
	}
	for name, n := range counts {
		c.opts.Metrics.QueueMessages(name, n)
	}
	return ok
}

// handle publishes one message and says what became of it.
func (c *Consumer) handle(ctx context.Context, m *types.Message) outcome {
	id := aws.ToString(m.MessageId)
	if c.undeleted.contains(id) {
		return outcomeDuplicate
	}
	pubs, err := decodeMessage(aws.ToString(m.Body), id)
	repeats := 0
	if err == nil {
		for _, p := range pubs {
			var dup bool
			if _, dup, err = c.opts.Publisher.PublishOnce(ctx, p); err != nil {
				break
			}
			if dup {
				repeats++
			}
		}
	}
	switch notify.ErrorCode(err) {
	case "":
		if repeats == len(pubs) {
			return outcomeDuplicate // a redelivery of what was already stored
		}
		return outcomeCommitted
	case notify.CodeInvalid:
		return c.poison(ctx, m, notify.ErrorMessage(err))
	default:
		if ctx.Err() == nil {
			c.opts.Logger.Warn("queue message left for redelivery", "messageId", id,
				"receiveCount", receiveCount(m), "err", err)
		}
		return outcomeTransient
	}
}

// deleteSettled deletes the messages whose outcome says so, in one batch
// call. A message that could not be deleted is remembered, so that its
// redelivery is deleted without being published again.
func (c *Consumer) deleteSettled(ctx context.Context, msgs []types.Message, outcomes []outcome) {
	var entries []types.DeleteMessageBatchRequestEntry
	for i, o := range outcomes {
		if o.deletes() {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msgs[i].ReceiptHandle,
			})
		}
	}
	if len(entries) == 0 {
		return
	}
	out, err := c.opts.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(c.opts.QueueURL), Entries: entries,
	})
	var failed []types.BatchResultErrorEntry
	if err != nil {
		for _, e := range entries {
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Message: aws.String(err.Error())})
		}
	} else {
		failed = out.Failed
		for _, s := range out.Successful {
			if i, err := strconv.Atoi(aws.ToString(s.Id)); err == nil && i < len(msgs) {
				c.undeleted.remove(aws.ToString(msgs[i].MessageId))
			}
		}
	}
	for _, f := range failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i >= len(msgs) {
			continue
		}
		id := aws.ToString(msgs[i].MessageId)
		c.undeleted.add(id)
		c.opts.Metrics.Error("queue")
		c.opts.Logger.Warn("queue delete failed; the message will be redelivered and deleted then",
			"messageId", id, "code", aws.ToString(f.Code), "err", aws.ToString(f.Message))
	}
}

// releasePoison makes the poison messages left for the redrive policy
// visible again at once, so that they reach maxReceiveCount, and with it
// the dead-letter queue, without waiting out their visibility timeouts.
func (c *Consumer) releasePoison(ctx context.Context, msgs []types.Message, outcomes []outcome) {
	var entries []types.ChangeMessageVisibilityBatchRequestEntry
	for i, o := range outcomes {
		if o == outcomeRedrive || o == outcomeRedriveLast {
			entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msgs[i].ReceiptHandle, VisibilityTimeout: 0,
			})
		}
	}
	if len(entries) == 0 {
		return
	}
	if err := c.changeVisibility(ctx, entries); err != nil {
		c.opts.Metrics.Error("queue")
		c.opts.Logger.Warn("queue: could not release poison messages; they return after their visibility timeout", "err", err)
	}
}

// changeVisibility sends one ChangeMessageVisibilityBatch and folds partial
// failures into its error.
func (c *Consumer) changeVisibility(ctx context.Context, entries []types.ChangeMessageVisibilityBatchRequestEntry) error {
	out, err := c.opts.Client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(c.opts.QueueURL), Entries: entries,
	})
	if err != nil {
		return fmt.Errorf("change message visibility: %w", err)
	}
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		return fmt.Errorf("change message visibility: %d of %d failed, first: %s: %s",
			len(out.Failed), len(entries), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return nil
}

// uniqueMessages drops all but the last copy of a message received more
// than once in one batch; the last receipt handle is the valid one. (AWS
// does not do this, but some SQS-compatible servers do when a message's
// visibility times out during a long poll.)
func uniqueMessages(msgs []types.Message) []types.Message {
	last := make(map[string]int, len(msgs))
	for i, m := range msgs {
		last[aws.ToString(m.MessageId)] = i
	}
	if len(last) == len(msgs) {
		return msgs
	}
	out := make([]types.Message, 0, len(last))
	for i, m := range msgs {
		if last[aws.ToString(m.MessageId)] == i {
			out = append(out, m)
		}
	}
	return out
}

// receiveCount returns a message's ApproximateReceiveCount, 0 if unknown.
func receiveCount(m *types.Message) int {
	n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	return n
}
