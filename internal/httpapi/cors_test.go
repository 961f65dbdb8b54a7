package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

func TestCORSAllowedOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("GET", "/api/notifications/unread-count", "", append(auth(aliceToken), "Origin", allowedOrg)...)
	hd := rec.Header()
	if rec.Code != http.StatusOK || hd.Get("Access-Control-Allow-Origin") != allowedOrg ||
		hd.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(strings.Join(hd.Values("Vary"), ","), "Origin") {
		t.Errorf("allowed origin: %d %v", rec.Code, hd)
	}
}

func TestCORSDisallowedOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("GET", "/api/notifications/unread-count", "", append(auth(aliceToken), "Origin", "https://evil.example")...)
	for k := range rec.Header() {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("disallowed origin got %s: %v", k, rec.Header()[k])
		}
	}
	// Same-origin and non-browser requests work as usual.
	if rec := h.do("GET", "/api/notifications/unread-count", "", auth(aliceToken)...); rec.Code != http.StatusOK {
		t.Errorf("no Origin: %d", rec.Code)
	}
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.do("OPTIONS", "/api/notifications/sse", "",
		"Origin", allowedOrg, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "last-event-id")
	hd := rec.Header()
	if rec.Code != http.StatusNoContent || hd.Get("Access-Control-Allow-Origin") != allowedOrg {
		t.Fatalf("preflight: %d %v", rec.Code, hd)
	}
	for _, want := range []string{"Authorization", "Content-Type", "Last-Event-ID"} {
		if !strings.Contains(hd.Get("Access-Control-Allow-Headers"), want) {
			t.Errorf("Allow-Headers %q lacks %s", hd.Get("Access-Control-Allow-Headers"), want)
		}
	}
	if !strings.Contains(hd.Get("Access-Control-Allow-Methods"), "DELETE") || hd.Get("Access-Control-Max-Age") == "" {
		t.Errorf("preflight headers %v", hd)
	}

	rec = h.do("OPTIONS", "/api/notifications/sse", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("disallowed preflight got CORS headers: %v", rec.Header())
	}
	for _, o := range []string{"*", "null"} {
		rec = h.do("OPTIONS", "/api/notifications/sse", "", "Origin", o, "Access-Control-Request-Method", "GET")
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("origin %q allowed as %q", o, got)
		}
	}
}

// TestCrossSiteCookieRefused: a page elsewhere cannot change state with the
// herald_token cookie; an allowed origin can.
func TestCrossSiteCookieRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cookie := []string{"Cookie", tokenCookie + "=" + aliceToken, "Sec-Fetch-Site", "cross-site"}
	rec := h.do("POST", "/api/notifications/read-all", "", append(cookie, "Origin", "https://evil.example")...)
	wantError(t, rec, http.StatusForbidden, codeForbidden, "cross-origin")
	rec = h.do("POST", "/api/notifications/read-all", "", append(cookie, "Origin", allowedOrg)...)
	if rec.Code != http.StatusOK {
		t.Errorf("allowed origin: %d %s", rec.Code, rec.Body)
	}
	// Server-to-server publishing carries neither header and is unaffected.
	rec = h.do("POST", "/api/publish/events", `{"userId":"u1","event":"x"}`, auth(pubKey)...)
	if rec.Code != http.StatusAccepted {
		t.Errorf("server publish: %d %s", rec.Code, rec.Body)
	}
}

func TestNewRejectsBadOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := Options{Service: h.srv.svc, Tickets: h.store, Verifier: h.srv.verifier, PublisherKey: "k",
		Streams: h.streams, Stats: fakeStats{}, AllowedOrigins: []string{"app.example.com/path"}}
	if _, err := New(o); err == nil {
		t.Error("New accepted a malformed origin")
	}
	o.AllowedOrigins = nil
	if _, err := New(o); err != nil {
		t.Errorf("New: %v", err)
	}
	o.PublisherKey = ""
	if _, err := New(o); err == nil {
		t.Error("New accepted an empty publisher key")
	}
}

// TestCrossSiteCookieStream: a stream authenticated by a cookie opens from
// this site or an allowed origin only; a ticket or a bearer token opens
// from anywhere (another site cannot send them).
func TestCrossSiteCookieStream(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Verifier = sessionVerifier{o.Verifier.(*fakeVerifier)} })
	cookie := []string{"Cookie", tokenCookie + "=" + aliceToken}
	session := []string{"Cookie", "app.session=erin"}
	tests := []struct {
		name string
		cred []string
		hdr  []string // browser headers; the request's Host is example.com
		want int
	}{
		{"img tag on another site", cookie, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"img tag, session cookie", session, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"fetch from another site", cookie, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"fetch from an allowed origin", cookie, []string{"Sec-Fetch-Site", "cross-site", "Origin", allowedOrg}, http.StatusOK},
		{"same origin", cookie, []string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"typed in the address bar", cookie, []string{"Sec-Fetch-Site", "none"}, http.StatusOK},
		{"same site, top level", cookie, []string{"Sec-Fetch-Site", "same-site"}, http.StatusOK},
		{"same site, CORS from a sibling not allowed", cookie, []string{"Sec-Fetch-Site", "same-site", "Origin", "https://other.example.com"}, http.StatusForbidden},
		{"old browser, foreign Origin", cookie, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"old browser, own Origin", cookie, []string{"Origin", "http://example.com"}, http.StatusOK},
		{"no browser headers (curl)", cookie, nil, http.StatusOK},
		{"bearer from another site", auth(aliceToken), []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusOK},
	}
	for _, tt := range tests {
		rec := h.do("GET", "/api/notifications/sse", "", append(append([]string{}, tt.cred...), tt.hdr...)...)
		if rec.Code != tt.want {
			t.Errorf("%s: %d, want %d (%s)", tt.name, rec.Code, tt.want, rec.Body)
		}
		if tt.want == http.StatusForbidden {
			wantError(t, rec, http.StatusForbidden, codeForbidden, "cross-site stream refused")
		}
	}
	// A ticket is accepted cross-site.
	tr := h.issueTicket(aliceToken)
	rec := h.do("GET", "/api/notifications/sse?ticket="+tr.Ticket, "", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if rec.Code != http.StatusOK {
		t.Errorf("ticket from another site: %d %s", rec.Code, rec.Body)
	}
	// Refused opens never reached the Streamer: they hold no slot.
	want := 0
	for _, tt := range tests {
		if tt.want == http.StatusOK {
			want++
		}
	}
	if n := len(h.streams.callList()); n != want+1 {
		t.Errorf("ServeStream called %d times, want %d", n, want+1)
	}
}
