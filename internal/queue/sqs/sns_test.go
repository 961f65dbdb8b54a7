package sqs

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

// envelope wraps body as SNS wraps a message for an SQS subscription
// without raw message delivery.
func envelope(t *testing.T, typ, id string, body any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"Type": typ, "MessageId": id, "TopicArn": "arn:aws:sns:us-east-1:123456789012:herald",
		"Message": body, "Timestamp": "2026-11-29T10:00:00.000Z", "SignatureVersion": "1",
		"Signature": "c2ln", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
		"UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// An enveloped body is handled exactly as the raw one, with keys from the
// SNS MessageId instead of the SQS one.
func TestSNSEnvelopeIsUnwrapped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		keys       []string
	}{
		{"object", `{"userId":"u1","type":"t","title":"hi"}`, []string{"sns:sns-1"}},
		{"array", `[{"userId":"u1","type":"t","title":"a"},{"userId":"u2","type":"t","title":"b","idempotencyKey":"own"}]`,
			[]string{"sns:sns-1:0", "own"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw, err := decodeMessage(tc.body, "sqs-1")
			if err != nil {
				t.Fatal(err)
			}
			wrapped, err := decodeMessage(envelope(t, "Notification", "sns-1", tc.body), "sqs-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(wrapped) != len(raw) {
				t.Fatalf("%d publications wrapped, %d raw", len(wrapped), len(raw))
			}
			for i := range raw {
				if wrapped[i].IdempotencyKey != tc.keys[i] {
					t.Errorf("[%d] key %q, want %q", i, wrapped[i].IdempotencyKey, tc.keys[i])
				}
				wrapped[i].IdempotencyKey, raw[i].IdempotencyKey = "", ""
				w, _ := json.Marshal(wrapped[i])
				r, _ := json.Marshal(raw[i])
				if string(w) != string(r) {
					t.Errorf("[%d] wrapped %s, raw %s", i, w, r)
				}
			}
		})
	}
}

// Bodies that only look like envelopes are raw publications; broken
// envelopes and envelopes of bad bodies are invalid, naming what is wrong.
func TestSNSEnvelopeErrors(t *testing.T) {
	t.Parallel()
	good := `{"userId":"u1","type":"t","title":"hi"}`
	for _, tc := range []struct{ name, body, wantPrefix string }{
		{"subscription confirmation", envelope(t, "SubscriptionConfirmation", "s", "You have chosen to subscribe"), "sns envelope: Type"},
		{"message not a string", envelope(t, "Notification", "s", map[string]any{"userId": "u1"}), "sns envelope: Message"},
		{"message missing", `{"Type":"Notification","MessageId":"s","TopicArn":"arn"}`, "sns envelope: Message"},
		{"empty message id", envelope(t, "Notification", "", good), "sns envelope: Type and MessageId"},
		{"type not a string", `{"Type":1,"MessageId":"s","TopicArn":"arn","Message":"{}"}`, "sns envelope: Type and MessageId"},
		{"inner bad json", envelope(t, "Notification", "s", `{"userId":`), "sns Message: body:"},
		{"inner invalid", envelope(t, "Notification", "s", `{"userId":"u1","type":"BAD","title":"x"}`), "sns Message: type:"},
		{"inner envelope", envelope(t, "Notification", "s", envelope(t, "Notification", "s2", good)), "sns Message: "},
		// Not envelopes: the keys differ in case or one is missing, so the
		// body is decoded as a publication (and refused as one).
		{"lower-case keys", `{"type":"Notification","messageId":"s","topicArn":"arn","message":"{}"}`, "unknown field"},
		{"no TopicArn", `{"Type":"Notification","MessageId":"s","Message":"{}"}`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeMessage(tc.body, "m")
			if notify.ErrorCode(err) != notify.CodeInvalid {
				t.Fatalf("err = %v, want CodeInvalid", err)
			}
			msg := notify.ErrorMessage(err)
			if tc.wantPrefix == "unknown field" {
				if !strings.Contains(msg, tc.wantPrefix) {
					t.Errorf("message %q, want an unknown field", msg)
				}
			} else if !strings.HasPrefix(msg, tc.wantPrefix) {
				t.Errorf("message %q, want prefix %q", msg, tc.wantPrefix)
			}
		})
	}
}
