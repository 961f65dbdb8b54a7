package httpapi

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestLogsNeverHoldSecrets drives every kind of credential through the API,
// valid and not, and checks the access log names the requests but never a
// token, a ticket, a cookie or a query string.
func TestLogsNeverHoldSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.issueTicket(aliceToken)
	spent := h.issueTicket(bobToken)
	h.do("GET", "/api/notifications/sse?ticket="+url.QueryEscape(spent.Ticket), "")
	secrets := map[string]string{
		"alice's token": aliceToken, "bob's token": bobToken, "publisher key": pubKey,
		"ticket": tr.Ticket, "spent ticket": spent.Ticket,
		"bogus token": "bogus-token-value", "resume id": "resume-secret-id",
	}

	h.do("GET", "/api/notifications/sse?ticket="+url.QueryEscape(tr.Ticket)+"&lastEventId=resume-secret-id", "")
	h.do("GET", "/api/notifications/sse?ticket="+url.QueryEscape(spent.Ticket), "") // refused: spent
	h.do("GET", "/api/notifications/sse", "", "Cookie", tokenCookie+"="+bobToken)
	h.do("GET", "/api/notifications?limit=5", "", auth("bogus-token-value")...)
	h.do("GET", "/api/notifications?limit=500", "", auth(aliceToken)...)
	h.do("POST", "/api/publish/notifications", `{"userId":"u1","type":"c","title":"t"}`, auth(pubKey)...)
	h.do("POST", "/api/publish/notifications", `{}`, auth(pubKey+"x")...)
	h.do("GET", "/api/admin/stats?userId=alice", "", auth(pubKey)...)
	h.store.setFail(errDiskOnFire)
	h.do("POST", "/api/notifications/sse/ticket", "", auth(aliceToken)...) // internal error, logged in detail

	logs := h.logs.String()
	for name, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
	if strings.Contains(logs, "ticket=") || strings.Contains(logs, "limit=") || strings.Contains(logs, "userId=") {
		t.Error("the log holds a query string")
	}

	var access int
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] != "http request" {
			continue
		}
		access++
		for _, k := range []string{"method", "path", "status", "bytes", "duration", "userAgent"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("access log lacks %q: %s", k, line)
			}
		}
	}
	if access != 12 {
		t.Errorf("%d access log records, want 12", access)
	}
	if !strings.Contains(logs, `"path":"/api/notifications/sse","status":200`) {
		t.Errorf("stream not logged with its status:\n%s", logs)
	}
}
