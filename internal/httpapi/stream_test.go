package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// issueTicket gets a ticket with token and returns it with its expiry.
func (h *harness) issueTicket(token string) ticketResponse {
	h.t.Helper()
	rec := h.do("POST", "/api/notifications/sse/ticket", "", auth(token)...)
	if rec.Code != http.StatusOK {
		h.t.Fatalf("ticket: %d %s", rec.Code, rec.Body)
	}
	var tr ticketResponse
	decode(h.t, rec, &tr)
	return tr
}

func TestTicketIssued(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.issueTicket(aliceToken)
	raw, err := base64.RawURLEncoding.DecodeString(tr.Ticket)
	if err != nil || len(raw) != 32 {
		t.Fatalf("ticket %q: %d bytes, %v", tr.Ticket, len(raw), err)
	}
	if !tr.ExpiresAt.Equal(t0.Add(60 * time.Second)) {
		t.Errorf("expiresAt = %v, want now+60s", tr.ExpiresAt)
	}
	stored := h.store.ticketList()
	if len(stored) != 1 {
		t.Fatalf("stored %d tickets", len(stored))
	}
	st := stored[0]
	if st.Hash != hashTicket(tr.Ticket) || strings.Contains(st.Hash, tr.Ticket) {
		t.Errorf("stored hash %q is not sha256(ticket)", st.Hash)
	}
	if st.UserID != "alice" || !st.TokenExpiry.Equal(t0.Add(time.Hour)) || !st.ExpiresAt.Equal(tr.ExpiresAt) {
		t.Errorf("stored ticket %+v", st)
	}
	if h.issueTicket(aliceToken).Ticket == tr.Ticket {
		t.Error("two tickets are equal")
	}
}

func TestTicketNeverOutlivesToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.issueTicket(shortToken) // the token expires in 30 s
	if !tr.ExpiresAt.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("expiresAt = %v, want the token's expiry", tr.ExpiresAt)
	}
}

func TestTicketOpensStreamOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.issueTicket(aliceToken)
	target := "/api/notifications/sse?ticket=" + url.QueryEscape(tr.Ticket) + "&lastEventId=q1"
	// A ticket is the only credential considered, whatever else is sent.
	rec := h.do("GET", target, "", auth(bobToken)...)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", rec.Code, rec.Body)
	}
	if !rec.Flushed {
		t.Error("the Streamer's flush did not reach the connection")
	}
	calls := h.streams.callList()
	if len(calls) != 1 {
		t.Fatalf("ServeStream called %d times", len(calls))
	}
	c := calls[0]
	if c.userID != "alice" || !c.expiry.Equal(t0.Add(time.Hour)) || c.lastEventID != "q1" {
		t.Errorf("ServeStream(%q, %v, %q), want alice, the token's expiry, q1", c.userID, c.expiry, c.lastEventID)
	}
	if strings.Contains(c.rawQuery, tr.Ticket) || !strings.Contains(c.rawQuery, "lastEventId=q1") {
		t.Errorf("Streamer saw query %q: the ticket must be stripped, the rest kept", c.rawQuery)
	}

	rec = h.do("GET", target, "")
	wantError(t, rec, http.StatusUnauthorized, notify.CodeUnauth, "invalid or expired ticket")
	if n := len(h.streams.callList()); n != 1 {
		t.Errorf("a consumed ticket reached the Streamer (%d calls)", n)
	}
}

func TestTicketExpired(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr := h.issueTicket(aliceToken)
	h.clock.Advance(61 * time.Second)
	rec := h.do("GET", "/api/notifications/sse?ticket="+tr.Ticket, "")
	wantError(t, rec, http.StatusUnauthorized, notify.CodeUnauth, "invalid or expired ticket")
	if rec.Header().Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	if n := len(h.streams.callList()); n != 0 {
		t.Errorf("expired ticket reached the Streamer")
	}
}

func TestTicketMalformed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, q := range []string{"ticket=", "ticket=nope", "ticket=" + strings.Repeat("a", 500)} {
		rec := h.do("GET", "/api/notifications/sse?"+q, "", auth(aliceToken)...)
		wantError(t, rec, http.StatusUnauthorized, notify.CodeUnauth, "invalid or expired ticket")
	}
}

func TestTicketNeedsSubscriberToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, hdr := range [][]string{nil, auth("bogus"), auth(pubKey)} {
		rec := h.do("POST", "/api/notifications/sse/ticket", "", hdr...)
		wantError(t, rec, http.StatusUnauthorized, notify.CodeUnauth, "")
	}
	if n := len(h.store.ticketList()); n != 0 {
		t.Errorf("%d tickets stored", n)
	}
}

func TestStreamWithToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("GET", "/api/notifications/sse", "", auth(aliceToken)...)
	if rec.Code != http.StatusOK {
		t.Fatalf("header token: %d %s", rec.Code, rec.Body)
	}
	rec = h.do("GET", "/api/notifications/sse", "", "Cookie", tokenCookie+"="+bobToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("cookie token: %d %s", rec.Code, rec.Body)
	}
	calls := h.streams.callList()
	if len(calls) != 2 || calls[0].userID != "alice" || calls[1].userID != "bob" || !calls[0].expiry.Equal(t0.Add(time.Hour)) {
		t.Errorf("calls %+v", calls)
	}
}

func TestStreamLastEventIDPrecedence(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do("GET", "/api/notifications/sse?lastEventId=fromquery", "", append(auth(aliceToken), "Last-Event-ID", "fromheader")...)
	h.do("GET", "/api/notifications/sse?lastEventId=fromquery", "", auth(aliceToken)...)
	h.do("GET", "/api/notifications/sse", "", auth(aliceToken)...)
	calls := h.streams.callList()
	var got []string
	for _, c := range calls {
		got = append(got, c.lastEventID)
	}
	if strings.Join(got, ",") != "fromheader,fromquery," {
		t.Errorf("lastEventIDs = %q", got)
	}
}

func TestStreamAuthFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct {
		name string
		hdr  []string
	}{
		{"no token", nil},
		{"bad token", auth("bogus")},
		{"expired token", auth(staleToken)},
		{"publisher key", auth(pubKey)},
		{"publisher key cookie", []string{"Cookie", tokenCookie + "=" + pubKey}},
		{"basic scheme", []string{"Authorization", "Basic " + aliceToken}},
		{"empty bearer", []string{"Authorization", "Bearer "}},
	}
	for _, c := range cases {
		rec := h.do("GET", "/api/notifications/sse", "", c.hdr...)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %v", c.name, rec.Code, rec.Header())
		}
	}
	if n := len(h.streams.callList()); n != 0 {
		t.Errorf("unauthenticated requests reached the Streamer %d times", n)
	}
}

func TestPublisherKeyNeverOpensStream(t *testing.T) {
	t.Parallel()
	// Even with a Verifier that would accept the key as a token.
	h := newHarness(t, func(o *Options) { o.PublisherKey = aliceToken })
	rec := h.do("GET", "/api/notifications/sse", "", auth(aliceToken)...)
	wantError(t, rec, http.StatusUnauthorized, notify.CodeUnauth, "")
}

func TestStreamerErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		status     int
		code       notify.Code
		retryAfter string
	}{
		{"per-user limit", notify.Errorf(notify.CodeLimited, "too many connections for this user"), 429, notify.CodeLimited, "5"},
		{"global limit, custom retry", retryErr{notify.Errorf(notify.CodeUnavailable, "server at capacity"), 12500 * time.Millisecond}, 503, notify.CodeUnavailable, "13"},
		{"bad resume id", notify.Errorf(notify.CodeInvalid, "Last-Event-ID: malformed"), 400, notify.CodeInvalid, ""},
	}
	for _, c := range cases {
		h := newHarness(t)
		h.streams.setErr(c.err)
		rec := h.do("GET", "/api/notifications/sse", "", auth(aliceToken)...)
		wantError(t, rec, c.status, c.code, notify.ErrorMessage(c.err))
		if got := rec.Header().Get("Retry-After"); got != c.retryAfter {
			t.Errorf("%s: Retry-After = %q, want %q", c.name, got, c.retryAfter)
		}
	}
}

func TestStreamRefusedWhileDraining(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Draining = func() bool { return true } })
	tr := h.issueTicket(aliceToken)
	rec := h.do("GET", "/api/notifications/sse?ticket="+tr.Ticket, "")
	wantError(t, rec, http.StatusServiceUnavailable, notify.CodeUnavailable, "server is shutting down")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if len(h.streams.callList()) != 0 || len(h.store.ticketList()) != 1 {
		t.Error("a draining server opened a stream or spent the ticket")
	}
}

// TestTicketRateLimited: TicketsPerMinute at once, then 429 with the
// Retry-After of the next allowance; other users are unaffected; the
// allowance comes back with time.
func TestTicketRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.TicketsPerMinute = 6 })
	for range 6 {
		h.issueTicket(aliceToken)
		// Used at once, as clients do: the store's bound plays no part.
		h.store.mu.Lock()
		clear(h.store.tickets)
		h.store.mu.Unlock()
	}
	rec := h.do("POST", "/api/notifications/sse/ticket", "", auth(aliceToken)...)
	wantError(t, rec, http.StatusTooManyRequests, notify.CodeLimited, "too many stream tickets")
	if got := rec.Header().Get("Retry-After"); got != "10" {
		t.Errorf("Retry-After = %q, want 10 (a minute over 6)", got)
	}
	h.issueTicket(bobToken)
	h.clock.Advance(10 * time.Second)
	h.issueTicket(aliceToken)
	rec = h.do("POST", "/api/notifications/sse/ticket", "", auth(aliceToken)...)
	wantError(t, rec, http.StatusTooManyRequests, notify.CodeLimited, "too many stream tickets")
}

// TestTicketOutstandingBound: with no rate limit, the store's bound on
// unused tickets answers 429 (Retry-After: the ticket lifetime); using one
// frees a place.
func TestTicketOutstandingBound(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.TicketsPerMinute, o.MaxTicketsPerUser = 0, 3 })
	var first ticketResponse
	for i := range 3 {
		tr := h.issueTicket(aliceToken)
		if i == 0 {
			first = tr
		}
	}
	rec := h.do("POST", "/api/notifications/sse/ticket", "", auth(aliceToken)...)
	wantError(t, rec, http.StatusTooManyRequests, notify.CodeLimited, "too many unused stream tickets")
	if got := rec.Header().Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
	if n := len(h.store.ticketList()); n != 3 {
		t.Errorf("%d tickets stored, want 3", n)
	}
	if rec := h.do("GET", "/api/notifications/sse?ticket="+first.Ticket, ""); rec.Code != http.StatusOK {
		t.Fatalf("stream with a ticket: %d", rec.Code)
	}
	h.issueTicket(aliceToken)
}
