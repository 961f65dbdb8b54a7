package sqs

import (
	"strings"
	"testing"

	"github.com/herald-notify/herald/internal/notify"
)

func TestDecodeBodyDerivesIdempotencyKeys(t *testing.T) {
	t.Parallel()
	pubs, err := decodeMessage(`{"userId":"u1","type":"t","title":"hi"}`, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != 1 || pubs[0].IdempotencyKey != "sqs:m1" || pubs[0].UserID != "u1" {
		t.Fatalf("object form: %+v", pubs)
	}

	pubs, err = decodeMessage(` [{"userId":"u1","type":"t","title":"a"},
		{"userIds":["u2"],"type":"t","title":"b","idempotencyKey":"own"}]`, "m2")
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != 2 || pubs[0].IdempotencyKey != "sqs:m2:0" || pubs[1].IdempotencyKey != "own" {
		t.Fatalf("array form: %+v", pubs)
	}
}

func TestDecodeBodyRefusesWhatCannotBePublished(t *testing.T) {
	t.Parallel()
	long := `[` + strings.Repeat(`{"userId":"u","type":"t","title":"x"},`, MaxBatchElements) + `{"userId":"u","type":"t","title":"x"}]`
	for _, tc := range []struct{ name, body, wantPrefix string }{
		{"empty", ``, "body:"},
		{"not json", `hello`, "body:"},
		{"bad json", `{"userId":`, "body:"},
		{"trailing data", `{"userId":"u","type":"t","title":"x"} {}`, "body: unexpected data"},
		{"trailing bracket", `{"userId":"u","type":"t","title":"x"}]`, "body: unexpected data"},
		{"unknown field", `{"userId":"u","type":"t","title":"x","colour":1}`, "colour:"},
		{"invalid UTF-8", "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\xff\"}", "title: must be valid UTF-8"},
		{"invalid UTF-8 in an element", "[{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\"},{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\",\"data\":{\"k\":\"\xc3\"}}]", "body[1].data: must be valid UTF-8"},
		{"wrong type", `{"userId":5,"type":"t","title":"x"}`, "userId:"},
		{"no title", `{"userId":"u","type":"t"}`, "title:"},
		{"no audience", `{"type":"t","title":"x"}`, "userId:"},
		{"empty array", `[]`, "body: an array"},
		{"too many", long, "body: an array"},
		{"null element", `[null]`, "body[0]:"},
		{"invalid element", `[{"userId":"u","type":"t","title":"x"},{"userId":"u","type":"BAD","title":"x"}]`, "body[1]: type:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeMessage(tc.body, "m")
			if notify.ErrorCode(err) != notify.CodeInvalid {
				t.Fatalf("err = %v, want CodeInvalid", err)
			}
			if msg := notify.ErrorMessage(err); !strings.HasPrefix(msg, tc.wantPrefix) {
				t.Errorf("message %q, want prefix %q", msg, tc.wantPrefix)
			}
		})
	}
}

func TestParseRedrive(t *testing.T) {
	t.Parallel()
	for policy, want := range map[string]int{
		`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":5}`:   5,
		`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":"7"}`: 7,
	} {
		if got, err := parseRedrive(policy); err != nil || got != want {
			t.Errorf("parseRedrive(%s) = %d, %v; want %d", policy, got, err, want)
		}
	}
	if _, err := parseRedrive(`{"maxReceiveCount":0}`); err == nil {
		t.Error("maxReceiveCount 0 accepted")
	}
}

func TestRegionOf(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/q": "eu-west-1",
		"http://127.0.0.1:9324/000000000000/q":               "",
		"not a url \x00":                                     "",
	} {
		if got := regionOf(url); got != want {
			t.Errorf("regionOf(%q) = %q, want %q", url, got, want)
		}
	}
}

func TestCleanReason(t *testing.T) {
	t.Parallel()
	if got := cleanReason("a\x00b\nc"); got != "a?b\nc" {
		t.Errorf("cleanReason = %q", got)
	}
	if got := cleanReason(strings.Repeat("é", maxReasonBytes)); len(got) > maxReasonBytes || !strings.HasPrefix(got, "é") {
		t.Errorf("cleanReason kept %d bytes", len(got))
	}
}
