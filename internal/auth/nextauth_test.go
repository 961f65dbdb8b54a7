package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/herald-notify/herald/internal/testenv"
)

// sealSession encrypts claims as next-auth would: v4 (cookie "" salt, A256GCM)
// when salt is "", else Auth.js (salt = cookie name) with enc.
func sealSession(t *testing.T, key []byte, salt string, enc jose.ContentEncryption, claims any) string {
	t.Helper()
	var k []byte
	var err error
	if salt == "" {
		k, err = hkdf.Key(sha256.New, key, nil, "NextAuth.js Generated Encryption Key", 32)
	} else {
		n := 64
		if enc == jose.A256GCM {
			n = 32
		}
		k, err = hkdf.Key(sha256.New, key, []byte(salt), "Auth.js Generated Encryption Key ("+salt+")", n)
	}
	if err != nil {
		t.Fatal(err)
	}
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: jose.DIRECT, Key: k}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(jsonOf(t, claims)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func requestWith(cookies map[string]string) *http.Request {
	r := httptest.NewRequest("GET", "/api/notifications/sse", nil)
	for name, v := range cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	return r
}

// chunked splits value into name.0, name.1, … of at most size bytes.
func chunked(name, value string, size int) map[string]string {
	m := map[string]string{}
	for i := 0; len(value) > 0; i++ {
		n := min(size, len(value))
		m[name+"."+strconv.Itoa(i)] = value[:n]
		value = value[n:]
	}
	return m
}

func TestNextAuthSessions(t *testing.T) {
	t.Parallel()
	v, err := NewNextAuth(secret, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	exp := t0.Add(time.Hour)
	ok := map[string]any{"sub": "u1", "name": "Ann", "iat": t0.Unix(), "exp": exp.Unix()}
	v4 := sealSession(t, secret, "", jose.A256GCM, ok)
	v5 := sealSession(t, secret, "authjs.session-token", jose.A256CBC_HS512, ok)
	v5secure := sealSession(t, secret, "__Secure-authjs.session-token", jose.A256CBC_HS512, ok)
	v5gcm := sealSession(t, secret, "authjs.session-token", jose.A256GCM, ok)
	big := map[string]any{"sub": "u1", "exp": exp.Unix(), "picture": strings.Repeat("x", 6000)}
	v5big := sealSession(t, secret, "authjs.session-token", jose.A256CBC_HS512, big)

	tests := []struct {
		name    string
		cookies map[string]string
		found   bool
		user    string
		err     string
	}{
		{name: "none", cookies: map[string]string{"other": "x"}},
		{name: "next-auth v4", cookies: map[string]string{"next-auth.session-token": v4}, found: true, user: "u1"},
		{name: "next-auth v4 secure", cookies: map[string]string{"__Secure-next-auth.session-token": v4}, found: true, user: "u1"},
		{name: "auth.js v5", cookies: map[string]string{"authjs.session-token": v5}, found: true, user: "u1"},
		{name: "auth.js v5 secure", cookies: map[string]string{"__Secure-authjs.session-token": v5secure}, found: true, user: "u1"},
		{name: "auth.js v5 A256GCM", cookies: map[string]string{"authjs.session-token": v5gcm}, found: true, user: "u1"},
		{name: "auth.js v5 chunked", cookies: chunked("authjs.session-token", v5big, 3936), found: true, user: "u1"},
		{name: "a missing chunk", cookies: func() map[string]string {
			m := chunked("authjs.session-token", v5big, 3000)
			delete(m, "authjs.session-token.1")
			return m
		}(), found: true, err: "session cookie malformed"},
		{name: "v5 token under the v4 name", cookies: map[string]string{"next-auth.session-token": v5}, found: true, err: "session cookie malformed"},
		{name: "v4 token under the v5 name", cookies: map[string]string{"authjs.session-token": v4}, found: true, err: "session cookie invalid"},
		{name: "salt of another cookie name", cookies: map[string]string{"__Secure-authjs.session-token": v5}, found: true, err: "session cookie invalid"},
		{name: "another secret", cookies: map[string]string{"next-auth.session-token": sealSession(t, otherSecret, "", jose.A256GCM, ok)}, found: true, err: "session cookie invalid"},
		{name: "tampered", cookies: map[string]string{"next-auth.session-token": v4[:len(v4)-3] + "AAA"}, found: true, err: "session cookie invalid"},
		{name: "not a JWE", cookies: map[string]string{"next-auth.session-token": "abc"}, found: true, err: "session cookie malformed"},
		{name: "a signed JWT", cookies: map[string]string{"next-auth.session-token": mint(t, jwt.SigningMethodHS256, secret, "", claims("u1"))}, found: true, err: "session cookie malformed"},
		{name: "expired", cookies: map[string]string{"next-auth.session-token": sealSession(t, secret, "", jose.A256GCM,
			map[string]any{"sub": "u1", "exp": t0.Add(-time.Minute).Unix()})}, found: true, err: "token expired"},
		{name: "within leeway", cookies: map[string]string{"next-auth.session-token": sealSession(t, secret, "", jose.A256GCM,
			map[string]any{"sub": "u1", "exp": t0.Add(-2 * time.Second).Unix()})}, found: true, user: "u1"},
		{name: "no exp", cookies: map[string]string{"next-auth.session-token": sealSession(t, secret, "", jose.A256GCM,
			map[string]any{"sub": "u1"})}, found: true, err: "token has no exp claim"},
		{name: "no sub", cookies: map[string]string{"next-auth.session-token": sealSession(t, secret, "", jose.A256GCM,
			map[string]any{"exp": exp.Unix()})}, found: true, err: "token has no sub claim"},
		{name: "bad sub", cookies: map[string]string{"next-auth.session-token": sealSession(t, secret, "", jose.A256GCM,
			map[string]any{"sub": "a\nb", "exp": exp.Unix()})}, found: true, err: "token sub claim invalid"},
		{name: "too large", cookies: chunked("authjs.session-token", strings.Repeat("a", MaxSessionCookieBytes+1), 3936), found: true, err: "session cookie too large"},
		{name: "too many chunks", cookies: chunked("authjs.session-token", strings.Repeat("a", 40), 2), found: true, err: "session cookie too large"},
		{name: "v5 wins over v4", cookies: map[string]string{"authjs.session-token": v5, "next-auth.session-token": "junk"}, found: true, user: "u1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			user, gotExp, found, err := v.VerifySession(context.Background(), requestWith(tc.cookies))
			if found != tc.found {
				t.Fatalf("found = %v, want %v (err %v)", found, tc.found, err)
			}
			if !found {
				return
			}
			var token string
			for _, c := range tc.cookies {
				token += c
			}
			wantExp := exp
			if tc.name == "within leeway" {
				wantExp = t0.Add(-2 * time.Second)
			}
			checkResult(t, token, user, gotExp, err, tc.user, wantExp, tc.err)
		})
	}
}

func TestNewNextAuthRefusesWeakSecrets(t *testing.T) {
	t.Parallel()
	if _, err := NewNextAuth([]byte("short"), Options{}); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	if _, err := NewNextAuth(secret, Options{Leeway: -time.Second}); err == nil {
		t.Error("a negative leeway was accepted")
	}
}

// TestNextAuthRealLibraries encrypts sessions with the real next-auth v4
// (next-auth/jwt encode) and Auth.js (@auth/core/jwt encode) in Node and
// decrypts them here.
func TestNextAuthRealLibraries(t *testing.T) {
	t.Parallel()
	out := encodeWithNode(t, map[string]any{
		"secret": string(secret),
		"cases": []map[string]any{
			{"lib": "next-auth", "token": map[string]any{"sub": "user-4", "name": "Ann"}, "maxAge": 3600},
			{"lib": "authjs", "salt": "authjs.session-token", "token": map[string]any{"sub": "user-5"}, "maxAge": 3600},
			{"lib": "authjs", "salt": "__Secure-authjs.session-token", "token": map[string]any{"sub": "user-5s"}, "maxAge": 3600},
			{"lib": "authjs", "salt": "authjs.session-token", "token": map[string]any{"sub": "user-big", "picture": strings.Repeat("p", 5000)}, "maxAge": 3600},
			{"lib": "next-auth", "token": map[string]any{"sub": "user-old"}, "maxAge": -3600},
		},
	})
	v, err := NewNextAuth(secret, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, cookies map[string]string, wantUser, wantErr string) {
		t.Helper()
		user, exp, found, err := v.VerifySession(context.Background(), requestWith(cookies))
		switch {
		case !found:
			t.Errorf("%s: no session found", name)
		case wantErr != "":
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: err = %v, want %q", name, err, wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case user != wantUser:
			t.Errorf("%s: user %q, want %q", name, user, wantUser)
		case time.Until(exp) < 59*time.Minute || time.Until(exp) > 61*time.Minute:
			t.Errorf("%s: exp %v is not in an hour", name, exp)
		}
	}
	check("next-auth v4", map[string]string{"next-auth.session-token": out[0]}, "user-4", "")
	check("next-auth v4 secure", map[string]string{"__Secure-next-auth.session-token": out[0]}, "user-4", "")
	check("auth.js v5", map[string]string{"authjs.session-token": out[1]}, "user-5", "")
	check("auth.js v5 secure", map[string]string{"__Secure-authjs.session-token": out[2]}, "user-5s", "")
	if len(out[3]) <= 3936 {
		t.Fatalf("the big session is %d bytes, too small to be chunked", len(out[3]))
	}
	check("auth.js v5 chunked", chunked("authjs.session-token", out[3], 3936), "user-big", "")
	check("expired", map[string]string{"next-auth.session-token": out[4]}, "", "token expired")
	check("wrong salt", map[string]string{"__Secure-authjs.session-token": out[1]}, "", "session cookie invalid")
}

// encodeWithNode runs testdata/nextauth/encode.mjs, installing its locked
// dependencies first when they are missing.
func encodeWithNode(t *testing.T, input any) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", "node not on PATH", "install Node.js 20 or later")
	}
	dir := filepath.Join("testdata", "nextauth")
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		cmd := exec.CommandContext(t.Context(), "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			testenv.Missing(t, "node", "npm ci in "+dir+" failed: "+err.Error()+"\n"+string(out), "check the network or the npm registry settings")
		}
	}
	cmd := exec.CommandContext(t.Context(), node, "encode.mjs")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(jsonOf(t, input))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("encode.mjs: %v\n%s", err, stderr.String())
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("encode.mjs output: %v", err)
	}
	return out
}
