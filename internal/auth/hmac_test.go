package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/herald-notify/herald/internal/notify"
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

func TestHMACAudienceIssuer(t *testing.T) {
	t.Parallel()
	v, err := NewHMAC(secret, Options{Now: fixedNow, Audience: "herald", Issuer: "https://id.example"})
	if err != nil {
		t.Fatal(err)
	}
	with := func(kv ...any) string {
		return mint(t, jwt.SigningMethodHS256, secret, "", claims("u1", append([]any{"aud", "herald", "iss", "https://id.example"}, kv...)...))
	}
	tests := []struct {
		name, token, wantErr string
	}{
		{"both match", with(), ""},
		{"aud among several", with("aud", []string{"other", "herald"}), ""},
		{"aud missing", with("aud", nil), "token audience invalid"},
		{"aud empty", with("aud", ""), "token audience invalid"},
		{"aud wrong", with("aud", "other"), "token audience invalid"},
		{"iss missing", with("iss", nil), "token issuer invalid"},
		{"iss wrong", with("iss", "https://evil.example"), "token issuer invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			user, exp, err := v.Verify(context.Background(), tt.token)
			want := "u1"
			if tt.wantErr != "" {
				want = ""
			}
			checkResult(t, tt.token, user, exp, err, want, time.Time{}, tt.wantErr)
		})
	}
}

// Leeway is configurable, and the default applies when it is zero.
func TestHMACLeeway(t *testing.T) {
	t.Parallel()
	tok := mint(t, jwt.SigningMethodHS256, secret, "", claims("u1", "exp", t0.Add(-30*time.Second).Unix()))
	for _, tt := range []struct {
		leeway  time.Duration
		wantErr string
	}{
		{0, "token expired"},
		{time.Second, "token expired"},
		{time.Minute, ""},
	} {
		t.Run(tt.leeway.String(), func(t *testing.T) {
			t.Parallel()
			v, err := NewHMAC(secret, Options{Now: fixedNow, Leeway: tt.leeway})
			if err != nil {
				t.Fatal(err)
			}
			user, exp, err := v.Verify(context.Background(), tok)
			want := "u1"
			if tt.wantErr != "" {
				want = ""
			}
			checkResult(t, tok, user, exp, err, want, time.Time{}, tt.wantErr)
		})
	}
}

func TestNewHMAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  []byte
		opts    Options
		wantErr string
	}{
		{"nil secret", nil, Options{}, "at least 32 bytes, got 0"},
		{"31 bytes", secret[:31], Options{}, "at least 32 bytes, got 31"},
		{"32 bytes", secret, Options{}, ""},
		{"negative leeway", secret, Options{Leeway: -time.Second}, "leeway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewHMAC(tt.secret, tt.opts)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewHMAC: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("NewHMAC error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// The verifier keeps its own copy of the secret.
func TestNewHMACCopiesSecret(t *testing.T) {
	t.Parallel()
	s := append([]byte(nil), secret...)
	v, err := NewHMAC(s, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, jwt.SigningMethodHS256, secret, "", claims("u1"))
	clear(s)
	if _, _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify after the caller changed its slice: %v", err)
	}
}

func TestSignHS256(t *testing.T) {
	t.Parallel()
	now := t0.Add(1500 * time.Millisecond)
	tok, err := SignHS256(secret, "u1", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewHMAC(secret, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	user, exp, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify minted token: %v", err)
	}
	if user != "u1" || !exp.Equal(t0.Add(time.Hour+time.Second)) {
		t.Errorf("got %q until %v, want u1 until %v", user, exp, t0.Add(time.Hour+time.Second))
	}
	var c jwt.RegisteredClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &c)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Method != jwt.SigningMethodHS256 || c.IssuedAt == nil || !c.IssuedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("alg %v, iat %v; want HS256 and %v", parsed.Method.Alg(), c.IssuedAt, t0.Add(time.Second))
	}
	if _, _, err := v.Verify(context.Background(), mustSign(t, otherSecret, "u1")); err == nil {
		t.Error("a token minted with another secret verified")
	}

	for _, tt := range []struct {
		name    string
		secret  []byte
		user    string
		ttl     time.Duration
		wantErr string
	}{
		{"short secret", secret[:16], "u1", time.Hour, "at least 32 bytes"},
		{"empty user", secret, "", time.Hour, "user id"},
		{"control character in user", secret, "u\x01", time.Hour, "user id"},
		{"zero ttl", secret, "u1", 0, "ttl"},
		{"negative ttl", secret, "u1", -time.Minute, "ttl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := SignHS256(tt.secret, tt.user, tt.ttl, t0)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || tok != "" {
				t.Fatalf("SignHS256 = %q, %v; want an error mentioning %q", tok, err, tt.wantErr)
			}
		})
	}
}

func mustSign(t *testing.T, key []byte, user string) string {
	t.Helper()
	tok, err := SignHS256(key, user, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// FuzzHMACVerify: any input is refused or accepted without panic, and every
// refusal is a fixed notify.CodeUnauth message that does not echo the input.
func FuzzHMACVerify(f *testing.F) {
	valid, err := SignHS256(secret, "u1", time.Hour, t0)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", ".", "..", "...", "a.b.c", valid, valid + "x", "Bearer " + valid,
		handBuilt(`{"alg":"none"}`, `{"sub":"u1","exp":1e300}`, nil),
		handBuilt(`{"alg":"HS256"}`, `{"sub":"u1","exp":-1e300,"nbf":"x","aud":[1]}`, []byte("s")),
		handBuilt(`{"alg":"HS256","crit":["b64"],"b64":false}`, `{}`, nil),
	} {
		f.Add(s)
	}
	v, err := NewHMAC(secret, Options{Now: fixedNow})
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, e := range []*notify.Error{errMissing, errTooLarge, errMalformed, errAlg, errKeyUnknown, errSignature,
		errNoExp, errExpired, errNotYetValid, errIssuedFuture, errAudience, errIssuer, errNoSub, errBadSub, errInvalid} {
		allowed[e.Message] = true
	}
	f.Fuzz(func(t *testing.T, token string) {
		user, _, err := v.Verify(context.Background(), token)
		if err == nil {
			if !notify.ValidUserID(user) {
				t.Fatalf("accepted with invalid user %q", user)
			}
			return
		}
		var ne *notify.Error
		if !errors.As(err, &ne) || ne.Code != notify.CodeUnauth || !allowed[ne.Message] {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
