package sqs

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// heartbeat keeps the unfinished messages of one batch invisible: every
// third of the visibility timeout it extends them to a full timeout again,
// in one ChangeMessageVisibilityBatch call.
type heartbeat struct {
	c    *Consumer
	msgs []types.Message

	mu      sync.Mutex
	pending []bool // by message index; guarded by mu

	quit chan struct{}
	wg   sync.WaitGroup
}

// startHeartbeat starts extending the visibility of msgs until each is
// marked done or ctx ends. Call stop once every message is done.
func (c *Consumer) startHeartbeat(ctx context.Context, msgs []types.Message) *heartbeat {
	hb := &heartbeat{c: c, msgs: msgs, pending: make([]bool, len(msgs)), quit: make(chan struct{})}
	for i := range hb.pending {
		hb.pending[i] = true
	}
	hb.wg.Go(func() { hb.loop(ctx) })
	return hb
}

// done marks message i finished: its visibility is no longer extended.
func (hb *heartbeat) done(i int) {
	hb.mu.Lock()
	hb.pending[i] = false
	hb.mu.Unlock()
}

// stop ends the heartbeat and waits for an extension in progress.
func (hb *heartbeat) stop() {
	close(hb.quit)
	hb.wg.Wait()
}

func (hb *heartbeat) loop(ctx context.Context) {
	t := time.NewTicker(hb.c.visibility / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hb.quit:
			return
		case <-t.C:
		}
		entries := hb.entries()
		if len(entries) == 0 {
			continue
		}
		hb.c.opts.Logger.Debug("queue: extending visibility", "messages", len(entries))
		if err := hb.c.changeVisibility(ctx, entries); err != nil && ctx.Err() == nil {
			hb.c.opts.Metrics.Error("queue")
			hb.c.opts.Logger.Warn("queue: could not extend visibility; messages may be redelivered while processing (they are stored once)",
				"messages", len(entries), "err", err)
		}
	}
}

// entries returns the extension requests for the pending messages.
func (hb *heartbeat) entries() []types.ChangeMessageVisibilityBatchRequestEntry {
	secs := int32(hb.c.visibility / time.Second)
	hb.mu.Lock()
	defer hb.mu.Unlock()
	var out []types.ChangeMessageVisibilityBatchRequestEntry
	for i, p := range hb.pending {
		if p {
			out = append(out, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), ReceiptHandle: hb.msgs[i].ReceiptHandle, VisibilityTimeout: secs,
			})
		}
	}
	return out
}
