package notify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPublishDecode feeds any body to the publish decoder (DecodeJSON then
// Validate, as the HTTP API and the queue do). Whatever the input, it must
// not panic; an error is CodeInvalid with a message that names a field;
// an accepted publication holds only valid UTF-8, data that is a compact
// JSON object within its limit, and a valid audience; and encoding it again
// decodes to the same publication.
func FuzzPublishDecode(f *testing.F) {
	for _, seed := range []string{
		`{"userId":"u1","type":"comment","title":"New comment","message":"Ann replied","data":{"postId":42},"link":"/p/42"}`,
		`{"userIds":["a","b","a"],"type":"t","title":"x","idempotencyKey":"k","collapseKey":"c"}`,
		`{"broadcast":true,"type":"t","title":"multi\nline\r\n"}`,
		"{\"userId\":\"u\",\"type\":\"t\",\"title\":\"\xff\"}",
		"{\"userId\":\"u\",\"type\":\"t\",\"title\":\"x\",\"data\":{\"k\":\"\xc3\"}}",
		`{"userId":"u\u2028","type":"t","title":"x"}`,
		`{"userId":"u","type":"t","title":"a\u0000b"}`,
		`{"userId":"u","type":"t","title":"x","data":{"k":"\ud800"}}`,
		`{"userId":"u","type":"t","title":"x","colour":1}`,
		`{"userId":"u","type":"t","title":"x"} {}`,
		`{"userId":5}`,
		`{"TITLE":"x","UserId":"u","Type":"t"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Publication
		err := DecodeJSON(body, &p)
		if err == nil {
			err = p.Validate()
		}
		if err != nil {
			msg := ErrorMessage(err)
			if ErrorCode(err) != CodeInvalid || !strings.Contains(msg, ": ") || !utf8.ValidString(msg) {
				t.Fatalf("error %v (%q): want CodeInvalid naming a field", err, msg)
			}
			return
		}
		for _, s := range append([]string{p.UserID, p.Type, p.Title, p.Message, p.Link, p.IdempotencyKey, p.CollapseKey, string(p.Data)}, p.UserIDs...) {
			if !utf8.ValidString(s) {
				t.Fatalf("accepted invalid UTF-8 %q", s)
			}
		}
		if strings.ContainsRune(p.Title, 0) || strings.ContainsRune(p.Message, 0) {
			t.Fatalf("accepted NUL in %q / %q", p.Title, p.Message)
		}
		if p.Data != nil {
			var buf bytes.Buffer
			if p.Data[0] != '{' || json.Compact(&buf, p.Data) != nil || !bytes.Equal(buf.Bytes(), p.Data) || len(p.Data) > MaxDataBytes {
				t.Fatalf("accepted data %q", p.Data)
			}
		}
		for _, u := range p.Recipients() {
			if !ValidUserID(u) {
				t.Fatalf("accepted user id %q", u)
			}
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal %+v: %v", p, err)
		}
		var q Publication
		if err := DecodeJSON(again, &q); err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("re-validating %s: %v", again, err)
		}
		if b, _ := json.Marshal(q); !bytes.Equal(b, again) {
			t.Fatalf("round trip changed %s into %s", again, b)
		}
	})
}

// FuzzParseCursor feeds any string to the SSE id parser (Last-Event-ID,
// ?lastEventId=). It must not panic; what it accepts is exactly what
// Cursor.String writes, and only ids that are safe in an SSE field.
func FuzzParseCursor(f *testing.F) {
	for _, seed := range []string{
		"k3x9q2ab.0.0", "k3x9q2ab.2n9c.1", "a.1.0\n", "a.01.0", "a.+1.0", "A.1.1", "a.-1.0",
		"a.1z141z3.0", "a.1y2p0ij32e8e7.0", "a.1y2p0ij32e8e8.0", "", "..", "a.b.c.d", "é.1.0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("ParseCursor(%q): %v, want CodeInvalid", s, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("ParseCursor(%q) = %+v, which writes as %q", s, c, c.String())
		}
		if c.User < 0 || c.Broadcast < 0 || strings.ContainsAny(s, "\r\n\x00 ") {
			t.Fatalf("ParseCursor(%q) accepted %+v", s, c)
		}
		if again, err := ParseCursor(c.String()); err != nil || again != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, again, err)
		}
	})
}
