package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	secret      = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
)

func TestHMACVerify(t *testing.T) {
	t.Parallel()
	v, err := NewHMAC(secret, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hs := func(c jwt.MapClaims) string { return mint(t, jwt.SigningMethodHS256, secret, "", c) }
	valid := hs(claims("u1"))
	parts := strings.Split(valid, ".")
	okHeader := `{"alg":"HS256","typ":"JWT"}`
	okPayload := jsonOf(t, claims("u1"))

	tests := []struct {
		name     string
		token    string
		wantUser string
		wantExp  time.Time
		wantErr  string
	}{
		{"valid", valid, "u1", t0.Add(time.Hour), ""},
		{"valid without iat", hs(claims("u1", "iat", nil)), "u1", t0.Add(time.Hour), ""},
		{"unicode user id", hs(claims("zoë@example.com")), "zoë@example.com", time.Time{}, ""},
		{"user id of 256 bytes", hs(claims(strings.Repeat("a", 256))), strings.Repeat("a", 256), time.Time{}, ""},
		{"expired", hs(claims("u1", "exp", t0.Add(-time.Minute).Unix())), "", time.Time{}, "token expired"},
		{"expired within leeway", hs(claims("u1", "exp", t0.Add(-4*time.Second).Unix())), "u1", t0.Add(-4 * time.Second), ""},
		{"expired just beyond leeway", hs(claims("u1", "exp", t0.Add(-5*time.Second).Unix())), "", time.Time{}, "token expired"},
		{"nbf in future", hs(claims("u1", "nbf", t0.Add(time.Minute).Unix())), "", time.Time{}, "token not valid yet"},
		{"nbf within leeway", hs(claims("u1", "nbf", t0.Add(4*time.Second).Unix())), "u1", time.Time{}, ""},
		{"nbf in past", hs(claims("u1", "nbf", t0.Add(-time.Minute).Unix())), "u1", time.Time{}, ""},
		{"iat in future", hs(claims("u1", "iat", t0.Add(time.Minute).Unix())), "", time.Time{}, "token issued in the future"},
		{"iat within leeway", hs(claims("u1", "iat", t0.Add(4*time.Second).Unix())), "u1", time.Time{}, ""},
		{"missing exp", hs(claims("u1", "exp", nil)), "", time.Time{}, "token has no exp claim"},
		{"null exp", hs(jwt.MapClaims{"sub": "u1", "exp": nil}), "", time.Time{}, "token has no exp claim"},
		{"missing sub", hs(claims("", "sub", nil)), "", time.Time{}, "token has no sub claim"},
		{"empty sub", hs(claims("")), "", time.Time{}, "token has no sub claim"},
		{"sub too long", hs(claims(strings.Repeat("a", 257))), "", time.Time{}, "token sub claim invalid"},
		{"sub with newline", hs(claims("u1\nadmin")), "", time.Time{}, "token sub claim invalid"},
		{"sub with NUL", hs(claims("u1\x00")), "", time.Time{}, "token sub claim invalid"},
		{"sub not a string", hs(claims("", "sub", 42)), "", time.Time{}, "token malformed"},
		{"forged with other secret", mint(t, jwt.SigningMethodHS256, otherSecret, "", claims("u1")), "", time.Time{}, "token signature invalid"},
		{"payload swapped after signing", parts[0] + "." + b64(jsonOf(t, claims("admin"))) + "." + parts[2], "", time.Time{}, "token signature invalid"},
		{"signature stripped", parts[0] + "." + parts[1] + ".", "", time.Time{}, "token signature invalid"},
		{"alg none hand-built", handBuilt(`{"alg":"none","typ":"JWT"}`, okPayload, nil), "", time.Time{}, "token algorithm not allowed"},
		{"alg none signed by library", mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims("u1")), "", time.Time{}, "token algorithm not allowed"},
		{"alg NONE", handBuilt(`{"alg":"NONE"}`, okPayload, nil), "", time.Time{}, "token algorithm not allowed"},
		{"alg missing", handBuilt(`{"typ":"JWT"}`, okPayload, []byte("sig")), "", time.Time{}, "token algorithm not allowed"},
		{"alg unknown", handBuilt(`{"alg":"XS256"}`, okPayload, []byte("sig")), "", time.Time{}, "token algorithm not allowed"},
		{"HS384 same secret", mint(t, jwt.SigningMethodHS384, secret, "", claims("u1")), "", time.Time{}, "token algorithm not allowed"},
		{"HS512 same secret", mint(t, jwt.SigningMethodHS512, secret, "", claims("u1")), "", time.Time{}, "token algorithm not allowed"},
		{"RS256", mint(t, jwt.SigningMethodRS256, rsaKey, "", claims("u1")), "", time.Time{}, "token algorithm not allowed"},
		{"empty", "", "", time.Time{}, "token missing"},
		{"garbage", "not a token", "", time.Time{}, "token malformed"},
		{"three dots", "...", "", time.Time{}, "token malformed"},
		{"two dots", "..", "", time.Time{}, "token malformed"},
		{"bearer prefix kept", "Bearer " + valid, "", time.Time{}, "token malformed"},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], "", time.Time{}, "token malformed"},
		{"header not JSON", handBuilt(`{alg:HS256`, okPayload, nil), "", time.Time{}, "token malformed"},
		{"payload not JSON", handBuilt(okHeader, `[1,2`, nil), "", time.Time{}, "token malformed"},
		{"exp not a number", hs(claims("u1", "exp", "tomorrow")), "", time.Time{}, "token malformed"},
		{"huge token", hs(claims("u1", "pad", strings.Repeat("x", MaxTokenBytes))), "", time.Time{}, "token too large"},
		{"large token under the limit", hs(claims("u1", "pad", strings.Repeat("x", MaxTokenBytes/2))), "u1", time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			user, exp, err := v.Verify(context.Background(), tt.token)
			checkResult(t, tt.token, user, exp, err, tt.wantUser, tt.wantExp, tt.wantErr)
		})
	}
}
