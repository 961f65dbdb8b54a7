package e2e

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestNextAuthSessionCookieOpensTheInbox starts Herald with
// HERALD_NEXTAUTH_SECRET and reads an inbox with nothing but an Auth.js
// session cookie (auth's own tests check the format against the real
// libraries; this checks the wiring).
func TestNextAuthSessionCookieOpensTheInbox(t *testing.T) {
	t.Parallel()
	const appSecret = "the-nextjs-app-AUTH_SECRET-0123456789"
	s := startServer(t, func(env map[string]string) { env["HERALD_NEXTAUTH_SECRET"] = appSecret })
	s.publish(t, "next-user", "hello")

	const cookie = "authjs.session-token"
	key, err := hkdf.Key(sha256.New, []byte(appSecret), []byte(cookie), "Auth.js Generated Encryption Key ("+cookie+")", 64)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := jose.NewEncrypter(jose.A256CBC_HS512, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"sub": "next-user", "exp": time.Now().Add(time.Hour).Unix()})
	obj, err := enc.Encrypt(claims)
	if err != nil {
		t.Fatal(err)
	}
	session, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}

	get := func(c *http.Cookie) (int, int) {
		req, _ := http.NewRequest("GET", s.URL+"/api/notifications/unread-count", nil)
		req.AddCookie(c)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Count int }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Count
	}
	if code, n := get(&http.Cookie{Name: cookie, Value: session}); code != http.StatusOK || n != 1 {
		t.Errorf("with the session cookie: status %d, count %d; want 200, 1", code, n)
	}
	if code, _ := get(&http.Cookie{Name: "__Secure-" + cookie, Value: session}); code != http.StatusUnauthorized {
		t.Errorf("session under another cookie name (another key): status %d, want 401", code)
	}
}
