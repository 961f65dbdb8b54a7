package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// sessionVerifier is fakeVerifier plus a session cookie "app.session" whose
// value names the user ("expired" is a session past its expiry, "forged"
// fails verification).
type sessionVerifier struct {
	*fakeVerifier
}

func (v sessionVerifier) VerifySession(_ context.Context, r *http.Request) (string, time.Time, bool, error) {
	c, err := r.Cookie("app.session")
	if err != nil {
		return "", time.Time{}, false, nil
	}
	switch c.Value {
	case "forged":
		return "", time.Time{}, true, notify.Errorf(notify.CodeUnauth, "session cookie invalid")
	case "expired":
		return "erin", t0.Add(-time.Second), true, nil
	}
	return c.Value, t0.Add(time.Hour), true, nil
}

func TestSessionCookieAuthenticatesAfterTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Verifier = sessionVerifier{o.Verifier.(*fakeVerifier)} })
	for _, u := range []string{"alice", "erin"} {
		rec := h.do("POST", "/api/publish/notifications", `{"userId":"`+u+`","type":"t","title":"for `+u+`"}`,
			"Authorization", "Bearer "+pubKey, "Content-Type", "application/json")
		if rec.Code != http.StatusAccepted {
			t.Fatalf("publish: %d %s", rec.Code, rec.Body)
		}
	}
	tests := []struct {
		name string
		hdr  []string
		code int
		want string // whose inbox answers
	}{
		{"session cookie alone", []string{"Cookie", "app.session=erin"}, http.StatusOK, "erin"},
		{"bearer first", []string{"Authorization", "Bearer " + aliceToken, "Cookie", "app.session=erin"}, http.StatusOK, "alice"},
		{"herald_token second", []string{"Cookie", "herald_token=" + aliceToken + "; app.session=erin"}, http.StatusOK, "alice"},
		{"a bad bearer is not rescued by the session", []string{"Authorization", "Bearer nope", "Cookie", "app.session=erin"}, http.StatusUnauthorized, ""},
		{"forged session", []string{"Cookie", "app.session=forged"}, http.StatusUnauthorized, ""},
		{"expired session", []string{"Cookie", "app.session=expired"}, http.StatusUnauthorized, ""},
		{"nothing", nil, http.StatusUnauthorized, ""},
	}
	for _, tc := range tests {
		rec := h.do("GET", "/api/notifications", "", tc.hdr...)
		if rec.Code != tc.code {
			t.Errorf("%s: status %d, want %d: %s", tc.name, rec.Code, tc.code, rec.Body)
			continue
		}
		if tc.want != "" && !strings.Contains(rec.Body.String(), "for "+tc.want) {
			t.Errorf("%s: body %s, want %s's inbox", tc.name, rec.Body, tc.want)
		}
	}

	// Without a SessionVerifier the cookie means nothing.
	plain := newHarness(t)
	if rec := plain.do("GET", "/api/notifications", "", "Cookie", "app.session=erin"); rec.Code != http.StatusUnauthorized {
		t.Errorf("without a session verifier: status %d", rec.Code)
	}
}
