package sqs_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	queue "github.com/herald-notify/herald/internal/queue/sqs"
)

// A topic fanned out to the queue without raw message delivery: each
// message arrives in SNS's envelope, and is stored as the raw body would
// be; copies of one SNS message (SNS delivers at least once) are stored
// once, keyed by the SNS MessageId; a bad body inside an envelope is
// dead-lettered like a bad raw body.
func TestSNSDeliveriesAreConsumedLikeRawMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, dlq := e.redriveTo(t, 5, "30")
	topic := e.srv.SubscribedTopic(t, e.queue)
	ctx := context.Background()
	publish := func(body string) string {
		out, err := e.srv.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(body)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.MessageId)
	}
	snsID := publish(pub("u1", "via sns"))

	// Take the delivery off the queue to copy it, as SNS's own duplicate
	// deliveries would, then make it visible again.
	got := e.receiveAll(t, e.queue, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages delivered by the topic, want 1", len(got))
	}
	var env struct{ Type, MessageId, TopicArn, Message string }
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &env); err != nil || env.Type != "Notification" ||
		env.MessageId != snsID || env.TopicArn != topic {
		t.Fatalf("delivery is not an SNS envelope of message %s: %s (%v)", snsID, aws.ToString(got[0].Body), err)
	}
	e.send(t, e.queue, aws.ToString(got[0].Body))
	e.send(t, e.queue, aws.ToString(got[0].Body))
	if _, err := e.srv.Client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(e.queue), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatal(err)
	}
	e.send(t, e.queue, pub("u1", "raw"))
	publish(`{"userId":"u1","type":"NOT VALID","title":"x"}`)

	pubs := &countingPublisher{next: e.service}
	e.run(t, e.options(t, func(o *queue.Options) { o.DLQURL, o.Publisher = dlq, pubs }))
	waitFor(t, "five settled messages", func() bool {
		return e.metrics.count("processed")+e.metrics.count("duplicate")+e.metrics.count("dead_lettered") >= 5
	})
	inbox := e.inbox(t, "u1")
	slices.Sort(inbox)
	if !slices.Equal(inbox, []string{"raw", "via sns"}) {
		t.Errorf("inbox %q, want raw and via sns once each", inbox)
	}
	if n := e.metrics.count("duplicate"); n != 2 {
		t.Errorf("%d duplicates, want 2 (the copies of the SNS message)", n)
	}
	pubs.mu.Lock()
	calls := pubs.calls["sns:"+snsID]
	pubs.mu.Unlock()
	if calls != 3 {
		t.Errorf("%d publishes under key sns:%s, want 3 (one per copy)", calls, snsID)
	}
	var dead []string
	waitFor(t, "the bad envelope in the DLQ", func() bool {
		for _, m := range e.receiveAll(t, dlq, 0) {
			dead = append(dead, aws.ToString(m.MessageAttributes[queue.AttrReason].StringValue))
		}
		return len(dead) >= 1
	})
	if len(dead) != 1 || !strings.HasPrefix(dead[0], "sns Message: type:") {
		t.Errorf("dead-letter reasons %q, want one naming the inner type", dead)
	}
}
