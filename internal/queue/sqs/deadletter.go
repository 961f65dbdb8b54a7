package sqs

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message attributes set on a message sent to Options.DLQURL.
const (
	AttrReason          = "herald.reason"          // why the message was refused
	AttrSourceMessageID = "herald.sourceMessageId" // its MessageId on the source queue
	AttrSourceQueue     = "herald.sourceQueue"     // the source queue's URL
)

// maxReasonBytes bounds the reason attribute.
const maxReasonBytes = 1024

// poison takes a message that can never be published out of the way: sent
// to Options.DLQURL when set (outcomeDeadLettered; outcomeTransient if that
// send fails), else released to the queue's redrive policy (outcomeRedrive).
// The reason is logged either way.
func (c *Consumer) poison(ctx context.Context, m *types.Message, reason string) outcome {
	id := aws.ToString(m.MessageId)
	reason = cleanReason(reason)
	if c.opts.DLQURL == "" {
		count := receiveCount(m)
		c.opts.Logger.Warn("queue: poison message left for the redrive policy", "messageId", id,
			"reason", reason, "receiveCount", count, "maxReceiveCount", c.maxReceives)
		if count >= c.maxReceives {
			return outcomeRedriveLast
		}
		return outcomeRedrive
	}
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(c.opts.DLQURL),
		MessageBody: m.Body,
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrReason:          stringAttr(reason),
			AttrSourceMessageID: stringAttr(id),
			AttrSourceQueue:     stringAttr(c.opts.QueueURL),
		},
	}
	if strings.HasSuffix(c.opts.DLQURL, ".fifo") {
		in.MessageGroupId = aws.String("herald-dead-letter")
		in.MessageDeduplicationId = aws.String(id)
	}
	if _, err := c.opts.Client.SendMessage(ctx, in); err != nil {
		c.opts.Metrics.Error("queue")
		c.opts.Logger.Warn("queue: could not dead-letter a poison message; it will be redelivered",
			"messageId", id, "reason", reason, "err", err)
		return outcomeTransient
	}
	c.opts.Logger.Warn("queue: poison message dead-lettered", "messageId", id, "reason", reason, "dlq", c.opts.DLQURL)
	return outcomeDeadLettered
}

// cleanReason makes reason a valid SQS attribute value of at most
// maxReasonBytes: characters SQS refuses become '?'.
func cleanReason(reason string) string {
	if len(reason) > maxReasonBytes {
		reason = strings.ToValidUTF8(reason[:maxReasonBytes], "")
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t', r == '\n', r == '\r', r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '?'
	}, reason)
}

func stringAttr(s string) types.MessageAttributeValue {
	if s == "" {
		s = "-" // SQS refuses empty attribute values
	}
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
}
