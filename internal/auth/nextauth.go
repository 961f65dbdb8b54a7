package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/herald-notify/herald/internal/notify"
)

// MaxSessionCookieBytes is the longest next-auth session (all chunks
// together) NextAuthVerifier will decrypt; longer ones are refused unread.
const MaxSessionCookieBytes = 32 << 10

// maxSessionChunks bounds the chunks of one session cookie (.0, .1, …):
// MaxSessionCookieBytes in next-auth's chunks of 3936 bytes, with room.
const maxSessionChunks = 16

// sessionFormat is one of the session cookie formats of next-auth.
type sessionFormat struct {
	cookie string // cookie name; also the HKDF salt of Auth.js
	// keys derives the content encryption key for enc from the secret; ok
	// false when the format does not use enc.
	keys func(secret []byte, cookie, enc string) (key []byte, ok bool, err error)
}

// next-auth v4 (lib/jwt getDerivedEncryptionKey): dir + A256GCM, key =
// HKDF-SHA256(secret, salt "", info "NextAuth.js Generated Encryption Key", 32).
func nextAuthV4Key(secret []byte, _, enc string) ([]byte, bool, error) {
	if enc != string(jose.A256GCM) {
		return nil, false, nil
	}
	k, err := hkdf.Key(sha256.New, secret, nil, "NextAuth.js Generated Encryption Key", 32)
	return k, true, err
}

// Auth.js v5 (@auth/core jwt.ts getDerivedEncryptionKey): dir + A256CBC-HS512
// (64-byte key) or A256GCM (32 bytes), key = HKDF-SHA256(secret, salt =
// cookie name, info "Auth.js Generated Encryption Key (<salt>)").
func authJSKey(secret []byte, cookie, enc string) ([]byte, bool, error) {
	n := 0
	switch enc {
	case string(jose.A256CBC_HS512):
		n = 64
	case string(jose.A256GCM):
		n = 32
	default:
		return nil, false, nil
	}
	k, err := hkdf.Key(sha256.New, secret, []byte(cookie), "Auth.js Generated Encryption Key ("+cookie+")", n)
	return k, true, err
}

// sessionFormats lists the formats in the order they are tried; the first
// cookie present decides.
func sessionFormats() [4]sessionFormat {
	return [...]sessionFormat{
		{"__Secure-authjs.session-token", authJSKey},
		{"authjs.session-token", authJSKey},
		{"__Secure-next-auth.session-token", nextAuthV4Key},
		{"next-auth.session-token", nextAuthV4Key},
	}
}

// Session cookie rejections. Fixed messages: they never quote the cookie.
var (
	errSessionMalformed = unauth("session cookie malformed")
	errSessionInvalid   = unauth("session cookie invalid")
	errSessionTooLarge  = unauth("session cookie too large")
)

// NextAuthVerifier authenticates a request by the encrypted JWT session
// cookie of next-auth v4 (next-auth.session-token, __Secure-…) or Auth.js v5
// (authjs.session-token, __Secure-…), chunked (.0, .1, …) or not, given the
// application's NEXTAUTH_SECRET / AUTH_SECRET. The user id is the session's
// "sub"; "exp" is required and enforced with Options.Leeway.
//
// It is immutable and safe for concurrent use. Rejections are
// *notify.Error with code notify.CodeUnauth and a fixed message that never
// contains the cookie.
type NextAuthVerifier struct {
	secret []byte
	leeway time.Duration
	now    func() time.Time
}

// NewNextAuth returns a verifier for sessions encrypted with secret (at least
// MinSecretBytes). Options.Audience and Options.Issuer are not used: next-auth
// sessions carry neither.
func NewNextAuth(secret []byte, o Options) (*NextAuthVerifier, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("next-auth secret must be at least %d bytes, got %d", MinSecretBytes, len(secret))
	}
	leeway := o.Leeway
	switch {
	case leeway < 0:
		return nil, fmt.Errorf("leeway must not be negative, got %s", leeway)
	case leeway == 0:
		leeway = DefaultLeeway
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &NextAuthVerifier{secret: append([]byte(nil), secret...), leeway: leeway, now: now}, nil
}

// VerifySession finds a next-auth session cookie in r and verifies it.
// found is false when r carries none (err is then nil).
func (v *NextAuthVerifier) VerifySession(_ context.Context, r *http.Request) (userID string, expiry time.Time, found bool, err error) {
	cookies := r.Cookies()
	for _, f := range sessionFormats() {
		token, ok, err := sessionValue(cookies, f.cookie)
		if !ok {
			continue
		}
		if err != nil {
			return "", time.Time{}, true, err
		}
		userID, expiry, err := v.decrypt(token, f)
		return userID, expiry, true, err
	}
	return "", time.Time{}, false, nil
}

// sessionValue returns the cookie name, or its chunks name.0, name.1, …
// joined in order (as next-auth's SessionStore does). ok is false when
// neither is present.
func sessionValue(cookies []*http.Cookie, name string) (value string, ok bool, err error) {
	whole := ""
	chunks := map[int]string{}
	for _, c := range cookies {
		switch {
		case c.Name == name:
			whole = c.Value
		case strings.HasPrefix(c.Name, name+"."):
			i, err := strconv.Atoi(c.Name[len(name)+1:])
			switch {
			case err != nil || i < 0:
				continue // another cookie that shares the prefix
			case i >= maxSessionChunks:
				return "", true, errSessionTooLarge
			}
			chunks[i] = c.Value
		}
	}
	if len(chunks) == 0 {
		return whole, whole != "", nil
	}
	idx := make([]int, 0, len(chunks))
	for i := range chunks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var b strings.Builder
	for n, i := range idx {
		if i != n { // a missing chunk: the session cannot be whole
			return "", true, errSessionMalformed
		}
		b.WriteString(chunks[i])
		if b.Len() > MaxSessionCookieBytes {
			return "", true, errSessionTooLarge
		}
	}
	return b.String(), true, nil
}

// sessionClaims are the claims Herald reads from a session.
type sessionClaims struct {
	Sub string          `json:"sub"`
	Exp json.RawMessage `json:"exp"`
	Nbf json.RawMessage `json:"nbf"`
}

// decrypt opens token as a session of format f and checks its claims.
func (v *NextAuthVerifier) decrypt(token string, f sessionFormat) (string, time.Time, error) {
	if len(token) > MaxSessionCookieBytes {
		return "", time.Time{}, errSessionTooLarge
	}
	alg, enc, err := jweAlgs(token)
	if err != nil || alg != string(jose.DIRECT) {
		return "", time.Time{}, errSessionMalformed
	}
	key, ok, err := f.keys(v.secret, f.cookie, enc)
	if err != nil || !ok {
		return "", time.Time{}, errSessionMalformed
	}
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.ContentEncryption(enc)})
	if err != nil {
		return "", time.Time{}, errSessionMalformed
	}
	payload, err := obj.Decrypt(key)
	if err != nil {
		return "", time.Time{}, errSessionInvalid
	}
	var c sessionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", time.Time{}, errSessionMalformed
	}
	now := v.now()
	exp, ok := numericDate(c.Exp)
	switch {
	case !ok:
		return "", time.Time{}, errNoExp
	case !now.Before(exp.Add(v.leeway)):
		return "", time.Time{}, errExpired
	}
	if nbf, ok := numericDate(c.Nbf); ok && now.Add(v.leeway).Before(nbf) {
		return "", time.Time{}, errNotYetValid
	}
	switch {
	case c.Sub == "":
		return "", time.Time{}, errNoSub
	case !notify.ValidUserID(c.Sub):
		return "", time.Time{}, errBadSub
	}
	return c.Sub, exp, nil
}

// jweAlgs reads "alg" and "enc" from a compact JWE's protected header.
func jweAlgs(token string) (alg, enc string, err error) {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", "", errors.New("not a compact JWE")
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", "", fmt.Errorf("decode header: %w", err)
	}
	var h struct{ Alg, Enc string }
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", "", fmt.Errorf("parse header: %w", err)
	}
	return h.Alg, h.Enc, nil
}

// numericDate parses a JWT NumericDate (seconds, possibly fractional).
func numericDate(raw json.RawMessage) (time.Time, bool) {
	if len(raw) == 0 {
		return time.Time{}, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// WithSessions returns a Verifier that verifies tokens with tokens and also
// has VerifySession, which reads next-auth session cookies with sessions.
// Close closes tokens when it is an io.Closer (a JWKSVerifier).
func WithSessions(tokens Verifier, sessions *NextAuthVerifier) *SessionsVerifier {
	return &SessionsVerifier{tokens: tokens, sessions: sessions}
}

// SessionsVerifier is a token Verifier with a next-auth session fallback.
// Safe for concurrent use.
type SessionsVerifier struct {
	tokens   Verifier
	sessions *NextAuthVerifier
}

var _ Verifier = (*SessionsVerifier)(nil)

// Verify verifies a subscriber token.
func (s *SessionsVerifier) Verify(ctx context.Context, token string) (string, time.Time, error) {
	return s.tokens.Verify(ctx, token)
}

// VerifySession verifies a next-auth session cookie of r; see NextAuthVerifier.
func (s *SessionsVerifier) VerifySession(ctx context.Context, r *http.Request) (string, time.Time, bool, error) {
	return s.sessions.VerifySession(ctx, r)
}

// Close releases the token verifier's resources, if it has any.
func (s *SessionsVerifier) Close() error {
	if c, ok := s.tokens.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
