package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
)

// testKey is a signing key and the JWK metadata it is published under.
type testKey struct {
	kid  string
	alg  jwkset.ALG // empty: the JWK carries no "alg"
	priv crypto.Signer
}

func newRSA(t testing.TB, kid string, bits int) testKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, alg: jwkset.AlgRS256, priv: k}
}

func newEC(t testing.TB, kid string, curve elliptic.Curve) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	alg := jwkset.AlgES256
	if curve != elliptic.P256() {
		alg = jwkset.AlgES384
	}
	return testKey{kid: kid, alg: alg, priv: k}
}

func newEd(t testing.TB, kid string) testKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, alg: jwkset.AlgEdDSA, priv: k}
}

// jwksJSON renders the public halves of keys as a JWK Set.
func jwksJSON(t testing.TB, keys ...testKey) []byte {
	t.Helper()
	ctx := context.Background()
	set := jwkset.NewMemoryStorage()
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.priv.Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: k.alg, USE: jwkset.UseSig},
		})
		if err != nil {
			t.Fatalf("jwk %s: %v", k.kid, err)
		}
		if err := set.KeyWrite(ctx, jwk); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := set.JSONPublic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// jwksServer serves a JWK Set that the test can replace, and counts fetches.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	fetches atomic.Int64
}

func newJWKSServer(t testing.TB, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(body)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte) { s.body.Store(&body) }

func quietOptions() Options {
	return Options{Now: fixedNow, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func newTestJWKS(t testing.TB, url string) *JWKSVerifier {
	t.Helper()
	v, err := NewJWKS(context.Background(), url, quietOptions())
	if err != nil {
		t.Fatalf("NewJWKS: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func signWith(t testing.TB, method jwt.SigningMethod, k testKey, kid string, c jwt.MapClaims) string {
	t.Helper()
	return mint(t, method, k.priv, kid, c)
}

func TestJWKSVerify(t *testing.T) {
	t.Parallel()
	rsaKey := newRSA(t, "rsa-1", 2048)
	ecKey := newEC(t, "ec-1", elliptic.P256())
	edKey := newEd(t, "ed-1")
	noAlg := newRSA(t, "rsa-noalg", 2048)
	noAlg.alg = ""
	srv := newJWKSServer(t, jwksJSON(t, rsaKey, ecKey, edKey, noAlg))
	v := newTestJWKS(t, srv.URL)

	stranger := newRSA(t, "rsa-1", 2048) // same kid, not in the set
	ec384 := newEC(t, "ec-1", elliptic.P384())
	pubDER, err := x509.MarshalPKIXPublicKey(rsaKey.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	valid := claims("u1")
	payload := jsonOf(t, valid)

	tests := []struct {
		name     string
		token    string
		wantUser string
		wantErr  string
	}{
		{"RS256", signWith(t, jwt.SigningMethodRS256, rsaKey, "rsa-1", valid), "u1", ""},
		{"ES256", signWith(t, jwt.SigningMethodES256, ecKey, "ec-1", valid), "u1", ""},
		{"EdDSA", signWith(t, jwt.SigningMethodEdDSA, edKey, "ed-1", valid), "u1", ""},
		{"RS256 key without alg in JWK", signWith(t, jwt.SigningMethodRS256, noAlg, "rsa-noalg", valid), "u1", ""},
		{"RS256 without kid", signWith(t, jwt.SigningMethodRS256, rsaKey, "", valid), "u1", ""},
		{"EdDSA without kid", signWith(t, jwt.SigningMethodEdDSA, edKey, "", valid), "u1", ""},
		{"expired", signWith(t, jwt.SigningMethodES256, ecKey, "ec-1", claims("u1", "exp", t0.Add(-time.Hour).Unix())), "", "token expired"},
		{"missing exp", signWith(t, jwt.SigningMethodEdDSA, edKey, "ed-1", claims("u1", "exp", nil)), "", "token has no exp claim"},
		{"missing sub", signWith(t, jwt.SigningMethodEdDSA, edKey, "ed-1", claims("u1", "sub", nil)), "", "token has no sub claim"},
		{"unknown kid", signWith(t, jwt.SigningMethodRS256, rsaKey, "nobody", valid), "", "token signing key unknown"},
		{"kid not a string", handBuilt(`{"alg":"RS256","kid":7}`, payload, []byte("sig")), "", "token signing key unknown"},
		{"key not in set, same kid", signWith(t, jwt.SigningMethodRS256, stranger, "rsa-1", valid), "", "token signature invalid"},
		{"key not in set, no kid", signWith(t, jwt.SigningMethodRS256, stranger, "", valid), "", "token signature invalid"},
		{"alg confusion: HS256 keyed with RSA public PEM", mint(t, jwt.SigningMethodHS256, pubPEM, "rsa-1", valid), "", "token algorithm not allowed"},
		{"alg confusion: HS256 keyed with RSA public DER, no kid", mint(t, jwt.SigningMethodHS256, pubDER, "", valid), "", "token algorithm not allowed"},
		{"ES256 token naming an RSA kid", signWith(t, jwt.SigningMethodES256, ecKey, "rsa-1", valid), "", "token signing key unknown"},
		{"ES256 token naming an RSA key without alg", signWith(t, jwt.SigningMethodES256, ecKey, "rsa-noalg", valid), "", "token algorithm not allowed"},
		{"ES384", signWith(t, jwt.SigningMethodES384, ec384, "ec-1", valid), "", "token algorithm not allowed"},
		{"PS256", signWith(t, jwt.SigningMethodPS256, rsaKey, "rsa-1", valid), "", "token algorithm not allowed"},
		{"RS512", signWith(t, jwt.SigningMethodRS512, rsaKey, "rsa-1", valid), "", "token algorithm not allowed"},
		{"alg none", handBuilt(`{"alg":"none","kid":"rsa-1"}`, payload, nil), "", "token algorithm not allowed"},
		{"garbage", "a.b.c", "", "token malformed"},
		{"empty", "", "", "token missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			user, exp, err := v.Verify(context.Background(), tt.token)
			checkResult(t, tt.token, user, exp, err, tt.wantUser, time.Time{}, tt.wantErr)
		})
	}
}

// A token whose kid is new makes the verifier refetch the set (a key
// rotation), at most once per interval: a second unknown kid right after is
// refused without another fetch.
func TestJWKSRefreshOnUnknownKID(t *testing.T) {
	t.Parallel()
	oldKey, newKey := newEd(t, "old"), newEd(t, "new")
	srv := newJWKSServer(t, jwksJSON(t, oldKey))
	v := newTestJWKS(t, srv.URL)
	ctx := context.Background()
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches after start = %d, want 1", n)
	}

	srv.set(jwksJSON(t, oldKey, newKey)) // the issuer rotates
	tok := signWith(t, jwt.SigningMethodEdDSA, newKey, "new", claims("u2"))
	user, _, err := v.Verify(ctx, tok)
	if err != nil || user != "u2" {
		t.Fatalf("token with rotated-in kid: user %q, err %v", user, err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches after unknown kid = %d, want 2", n)
	}

	ghost := newEd(t, "ghost")
	tok = signWith(t, jwt.SigningMethodEdDSA, ghost, "ghost", claims("u3"))
	user, exp, err := v.Verify(ctx, tok)
	checkResult(t, tok, user, exp, err, "", time.Time{}, "token signing key unknown")
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches after a second unknown kid = %d, want 2 (rate limited)", n)
	}
	// Known keys keep working.
	if _, _, err := v.Verify(ctx, signWith(t, jwt.SigningMethodEdDSA, oldKey, "old", claims("u1"))); err != nil {
		t.Fatalf("old key after refresh: %v", err)
	}
}

func TestNewJWKSErrors(t *testing.T) {
	t.Parallel()
	edKey := newEd(t, "ed")
	weakRSA := newRSA(t, "weak", 1024)
	ec384 := newEC(t, "p384", elliptic.P384())

	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		url     string
		opts    Options
		wantErr string
	}{
		{"unreachable", context.Background(), goneURL, quietOptions(), "fetch"},
		{"404", context.Background(), notFound.URL, quietOptions(), "fetch"},
		{"not JSON", context.Background(), newJWKSServer(t, []byte("<html>")).URL, quietOptions(), "fetch"},
		{"empty set", context.Background(), newJWKSServer(t, []byte(`{"keys":[]}`)).URL, quietOptions(), "no usable key among 0"},
		{"only symmetric key", context.Background(), newJWKSServer(t, []byte(`{"keys":[{"kty":"oct","kid":"h","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}`)).URL, quietOptions(), "no usable key among 1"},
		{"only weak RSA and P-384", context.Background(), newJWKSServer(t, jwksJSON(t, weakRSA, ec384)).URL, quietOptions(), "no usable key among 2"},
		{"body over the cap", context.Background(), newJWKSServer(t, []byte(`{"keys":[],"x":"`+strings.Repeat("x", jwksMaxBytes)+`"}`)).URL, quietOptions(), "fetch"},
		{"cancelled context", cancelled, newJWKSServer(t, jwksJSON(t, edKey)).URL, quietOptions(), "cancelled"},
		{"not a URL", context.Background(), "::", quietOptions(), "absolute http or https URL"},
		{"relative URL", context.Background(), "/jwks.json", quietOptions(), "absolute http or https URL"},
		{"file URL", context.Background(), "file:///etc/jwks.json", quietOptions(), "absolute http or https URL"},
		{"negative leeway", context.Background(), newJWKSServer(t, jwksJSON(t, edKey)).URL, Options{Leeway: -time.Second}, "leeway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := NewJWKS(tt.ctx, tt.url, tt.opts)
			if err == nil {
				_ = v.Close()
				t.Fatalf("NewJWKS succeeded; want an error mentioning %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

// Close stops the refresh goroutine and the client's connections. Not
// parallel: goleak compares against the goroutines present when it starts.
func TestJWKSCloseStopsGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	edKey := newEd(t, "ed")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(jwksJSON(t, edKey))
	}))
	defer srv.Close()
	v, err := NewJWKS(context.Background(), srv.URL, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Verify(context.Background(), signWith(t, jwt.SigningMethodEdDSA, edKey, "ed", claims("u1"))); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	// The keys fetched so far still verify after Close.
	if _, _, err := v.Verify(context.Background(), signWith(t, jwt.SigningMethodEdDSA, edKey, "ed", claims("u1"))); err != nil {
		t.Fatalf("Verify after Close: %v", err)
	}
}

// A password in the JWKS URL does not reach the start-up error.
func TestNewJWKSRedactsURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		handler http.Handler
	}{
		{"unreachable", nil},
		{"404", http.NotFoundHandler()},
		{"no keys", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"keys":[]}`) })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			if tt.handler == nil {
				srv.Close()
			} else {
				t.Cleanup(srv.Close)
			}
			u := strings.Replace(srv.URL, "http://", "http://herald:s3cr3t-pw@", 1)
			_, err := NewJWKS(context.Background(), u, quietOptions())
			if err == nil {
				t.Fatal("NewJWKS succeeded")
			}
			if strings.Contains(err.Error(), "s3cr3t-pw") {
				t.Fatalf("error %q contains the URL's password", err)
			}
		})
	}
}
