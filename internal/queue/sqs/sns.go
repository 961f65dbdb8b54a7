package sqs

import (
	"bytes"
	"encoding/json"

	"github.com/herald-notify/herald/internal/notify"
)

// snsIdempotencyPrefix starts the idempotency keys derived from the
// MessageId of an SNS notification.
const snsIdempotencyPrefix = "sns:"

// snsKeys are the members every SNS message delivered to SQS carries
// (without raw message delivery), whatever its Type. A Herald publication
// has none of them: an object that has all three is an SNS envelope.
var snsKeys = [...]string{"Type", "MessageId", "TopicArn"}

// decodeMessage parses the body of the SQS message messageID (see
// decodeBody). A body in an SNS envelope (an SNS topic delivering to the
// queue without raw message delivery) is unwrapped first: its Message is
// decoded exactly as a raw body would be, and its default idempotency keys
// derive from the SNS MessageId ("sns:ID", "sns:ID:INDEX"), so that SNS's
// own duplicate deliveries, which reach the queue as distinct SQS
// messages, are stored once. An envelope that is not a Notification, or
// whose Message or MessageId is missing, is invalid like any bad body.
func decodeMessage(body, messageID string) ([]*notify.Publication, error) {
	inner, snsID, err := unwrapSNS([]byte(body))
	switch {
	case err != nil:
		return nil, err
	case snsID != "":
		pubs, err := decodeBody(inner, snsIdempotencyPrefix+snsID)
		if err != nil {
			return nil, notify.Errorf(notify.CodeInvalid, "sns Message: %s", notify.ErrorMessage(err))
		}
		return pubs, nil
	}
	return decodeBody(body, idempotencyPrefix+messageID)
}

// unwrapSNS returns the Message and MessageId of an SNS notification
// envelope, or snsID "" when body is not an envelope.
func unwrapSNS(body []byte) (inner, snsID string, err error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	// Cheap test first: most bodies are raw publications.
	if len(trimmed) == 0 || trimmed[0] != '{' || !bytes.Contains(trimmed, []byte(`"TopicArn"`)) {
		return "", "", nil
	}
	var m map[string]json.RawMessage // keys compared exactly, unlike struct fields
	if json.Unmarshal(trimmed, &m) != nil {
		return "", "", nil // not JSON: decodeBody says why
	}
	for _, k := range snsKeys {
		if _, ok := m[k]; !ok {
			return "", "", nil
		}
	}
	var typ, id string
	if json.Unmarshal(m["Type"], &typ) != nil || json.Unmarshal(m["MessageId"], &id) != nil || id == "" {
		return "", "", notify.Errorf(notify.CodeInvalid, "sns envelope: Type and MessageId must be non-empty strings")
	}
	if typ != "Notification" {
		// A SubscriptionConfirmation reaches a queue subscribed across
		// accounts: it must be confirmed in AWS, not published.
		return "", "", notify.Errorf(notify.CodeInvalid, "sns envelope: Type %.40q is not Notification", typ)
	}
	raw, ok := m["Message"]
	if !ok || json.Unmarshal(raw, &inner) != nil {
		return "", "", notify.Errorf(notify.CodeInvalid, "sns envelope: Message must be a string holding the notification body")
	}
	return inner, id, nil
}
