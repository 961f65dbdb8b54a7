package notify

import (
	"strings"
	"testing"
)

func TestDecodeJSONNamesTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, prefix string }{
		{"invalid UTF-8 in title", "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"a\xffb\"}", "title: must be valid UTF-8"},
		{"invalid UTF-8 in message", "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\",\"message\":\"\xc3\"}", "message: must be valid UTF-8"},
		{"invalid UTF-8 in link", "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\",\"link\":\"/\xed\xa0\x80\"}", "link: must be valid UTF-8"},
		{"invalid UTF-8 in userIds", "{\"userIds\":[\"a\",\"\xfe\"],\"type\":\"t\",\"title\":\"x\"}", "userIds: must be valid UTF-8"},
		{"invalid UTF-8 deep in data", "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\",\"data\":{\"a\":[{\"b\":\"\xff\"}]}}", "data: must be valid UTF-8"},
		{"invalid UTF-8 in a data key", "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\",\"data\":{\"\xff\":1}}", "data: must be valid UTF-8"},
		{"invalid UTF-8 in idempotencyKey", "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\",\"idempotencyKey\":\"\x80\"}", "idempotencyKey: must be valid UTF-8"},
		{"invalid UTF-8 in an array element", "[{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\"},{\"userId\":\"u\",\"type\":\"t\",\"title\":\"\xff\"}]", "body[1].title: must be valid UTF-8"},
		{"unknown field", `{"userId":"u","colour":"red"}`, "colour: unknown field"},
		{"wrong type", `{"userId":5}`, "userId: must be a JSON string"},
		{"wrong type in a list", `{"userIds":[1]}`, "userIds: must be a JSON string"},
		{"syntax", `{"userId" "u"}`, "body: malformed JSON at offset"},
		{"truncated", `{"userId":`, "body: truncated JSON"},
		{"trailing", `{"userId":"u"} {}`, "body: unexpected data after the JSON value"},
	} {
		var dst any = new(Publication)
		if strings.HasPrefix(tc.body, "[") {
			dst = new([]Publication)
		}
		err := DecodeJSON([]byte(tc.body), dst)
		if ErrorCode(err) != CodeInvalid || !strings.HasPrefix(ErrorMessage(err), tc.prefix) {
			t.Errorf("%s: %v, want invalid %q", tc.name, err, tc.prefix)
		}
	}
	var p Publication
	body := "{\"userId\":\"u\",\"type\":\"t\",\"title\":\"caf\u00e9 \U0001F680\",\"data\":{\"k\":\"\\ud83d\\ude80\"}}\n"
	if err := DecodeJSON([]byte(body), &p); err != nil || p.Title != "café 🚀" {
		t.Fatalf("valid body: %v, title %q", err, p.Title)
	}
}
