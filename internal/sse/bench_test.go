package sse

import (
	"strings"
	"testing"
)

// notificationJSON is a typical notification payload, about 300 bytes.
var notificationJSON = []byte(`{"id":"01jd8x2k7q4m9n3p5r6s8t0v1w","type":"comment","title":"New comment on your post","message":"Ann replied: \"Thanks, that fixed it! I will open a PR for the docs too.\"","data":{"postId":42,"commentId":9181,"author":"ann"},"link":"/posts/42#c9181","createdAt":"2025-01-15T10:30:00.123456Z","readAt":null}`)

func BenchmarkAppendEvent(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(notificationJSON)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEvent(buf[:0], "notification", notificationJSON)
	}
}

// BenchmarkAppendIDPrefix is the per-connection cost when the body is
// encoded once and shared: an id line, then a copy of the body.
func BenchmarkAppendIDPrefix(b *testing.B) {
	body := AppendEvent(nil, "notification", notificationJSON)
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendID(buf[:0], "k3j9x0a1.1c4.0")
		buf = append(buf, body...)
	}
}

func BenchmarkAppendEventMultiline(b *testing.B) {
	data := []byte(strings.Repeat("a line of pretty-printed JSON,\r\n", 10))
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEvent(buf[:0], "notification", data)
	}
}

func BenchmarkEventAppendTo(b *testing.B) {
	e := Event{ID: "k3j9x0a1.1c4.0", Name: "notification", Data: notificationJSON}
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(notificationJSON)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.AppendTo(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
