package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/herald-notify/herald/internal/notify"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the fixed "now" of every test.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// claims returns valid claims for user u at t0 (sub, iat, exp in an hour),
// with the given changes; a nil value deletes the claim.
func claims(u string, changes ...any) jwt.MapClaims {
	c := jwt.MapClaims{"sub": u, "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	for i := 0; i+1 < len(changes); i += 2 {
		k := changes[i].(string)
		if changes[i+1] == nil {
			delete(c, k)
			continue
		}
		c[k] = changes[i+1]
	}
	return c
}

// mint signs c with method and key, setting kid when non-empty.
func mint(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

// handBuilt assembles a token from raw JSON header and payload and a signature,
// bypassing the library's signing.
func handBuilt(header, payload string, sig []byte) string {
	return b64(header) + "." + b64(payload) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkResult asserts the outcome of Verify: success as user wantUser when
// wantErr is "", else a notify.CodeUnauth *notify.Error with exactly message wantErr
// that quotes no part of token.
func checkResult(t *testing.T, token, user string, exp time.Time, err error, wantUser string, wantExp time.Time, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("Verify: unexpected error %v", err)
		}
		if user != wantUser {
			t.Errorf("user = %q, want %q", user, wantUser)
		}
		if !wantExp.IsZero() && !exp.Equal(wantExp) {
			t.Errorf("expiry = %v, want %v", exp, wantExp)
		}
		return
	}
	if err == nil {
		t.Fatalf("Verify accepted the token as %q; want error %q", user, wantErr)
	}
	var ne *notify.Error
	if !errors.As(err, &ne) {
		t.Fatalf("error %v (%T) is not a *notify.Error", err, err)
	}
	if ne.Code != notify.CodeUnauth {
		t.Errorf("code = %q, want %q", ne.Code, notify.CodeUnauth)
	}
	if ne.Message != wantErr {
		t.Errorf("message = %q, want %q", ne.Message, wantErr)
	}
	if user != "" || !exp.IsZero() {
		t.Errorf("rejection returned user %q, expiry %v; want zero values", user, exp)
	}
	assertNoLeak(t, token, err)
}

// assertNoLeak fails if err's text holds token or any of its dot-separated
// parts long enough to be recognisable.
func assertNoLeak(t *testing.T, token string, err error) {
	t.Helper()
	msg := err.Error()
	if token != "" && strings.Contains(msg, token) {
		t.Fatalf("error message contains the token")
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Fatalf("error message %q contains a token segment", msg)
		}
	}
}
