package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func BenchmarkPublish(b *testing.B) {
	h := newHarness(b)
	body := `{"userId":"u1","type":"comment","title":"New comment","message":"Ann replied","data":{"postId":42}}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/publish/notifications", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pubKey)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkUnreadCount(b *testing.B) {
	h := newHarness(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/notifications/unread-count", nil)
		req.Header.Set("Authorization", "Bearer "+aliceToken)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
