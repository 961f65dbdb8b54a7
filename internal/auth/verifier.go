package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/herald-notify/herald/internal/notify"
)

// MaxTokenBytes is the longest token Verify will look at. Longer input is
// refused before it is decoded, so an oversized header cannot make the server
// spend memory or CPU on it. Real subscriber tokens are a few hundred bytes.
const MaxTokenBytes = 8 << 10

// DefaultLeeway is the clock skew allowed on exp, nbf and iat when
// Options.Leeway is zero.
const DefaultLeeway = 5 * time.Second

// Verifier turns a subscriber token into the user id it names.
//
// Verify returns the token's "sub" and its "exp" claim (the instant after which
// the caller must stop serving the user on the strength of this token; the
// leeway is not added). Every rejection of the token itself is a
// *notify.Error with code notify.CodeUnauth and a short message that never
// contains any part of the token. Other errors (none today) would mean the
// verifier itself failed.
// ctx bounds any network work the verifier does (a JWKS refresh on an unknown
// key id). Implementations are safe for concurrent use and never panic.
type Verifier interface {
	Verify(ctx context.Context, token string) (userID string, expiry time.Time, err error)
}

// Options tune a verifier. The zero value is ready to use.
type Options struct {
	// Leeway is the clock skew tolerated on exp, nbf and iat. Zero means
	// DefaultLeeway; negative is refused.
	Leeway time.Duration
	// Audience, when set, must appear in the token's "aud" claim.
	Audience string
	// Issuer, when set, must equal the token's "iss" claim.
	Issuer string
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
	// Logger receives JWKS background refresh failures (never tokens); nil
	// means slog.Default(). Unused by HMACVerifier.
	Logger *slog.Logger
}

// pinned is the verification policy shared by both verifiers: the allowed
// algorithms and the parser options derived from Options. Immutable.
type pinned struct {
	algs     []string
	audience string
	popts    []jwt.ParserOption
}

// newPinned validates o and builds the policy for algs.
func newPinned(o Options, algs ...string) (*pinned, error) {
	leeway := o.Leeway
	switch {
	case leeway < 0:
		return nil, fmt.Errorf("leeway must not be negative, got %s", leeway)
	case leeway == 0:
		leeway = DefaultLeeway
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	}
	if o.Now != nil {
		popts = append(popts, jwt.WithTimeFunc(o.Now))
	}
	if o.Audience != "" {
		popts = append(popts, jwt.WithAudience(o.Audience))
	}
	if o.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(o.Issuer))
	}
	return &pinned{algs: algs, audience: o.Audience, popts: popts}, nil
}

// Token rejections. Messages are fixed: they never quote the token.
var (
	errMissing      = unauth("token missing")
	errTooLarge     = unauth("token too large")
	errMalformed    = unauth("token malformed")
	errAlg          = unauth("token algorithm not allowed")
	errKeyUnknown   = unauth("token signing key unknown")
	errSignature    = unauth("token signature invalid")
	errNoExp        = unauth("token has no exp claim")
	errExpired      = unauth("token expired")
	errNotYetValid  = unauth("token not valid yet")
	errIssuedFuture = unauth("token issued in the future")
	errAudience     = unauth("token audience invalid")
	errIssuer       = unauth("token issuer invalid")
	errNoSub        = unauth("token has no sub claim")
	errBadSub       = unauth("token sub claim invalid")
	errInvalid      = unauth("token invalid")
)

func unauth(msg string) *notify.Error { return &notify.Error{Code: notify.CodeUnauth, Message: msg} }

// parse runs the whole verification of raw under policy p with key lookup kf, and classifies any failure into one of the fixed errors above.
// Each call builds its own jwt.Parser, so nothing is shared between calls.
func (p *pinned) parse(raw string, kf jwt.Keyfunc) (string, time.Time, error) {
	switch {
	case raw == "":
		return "", time.Time{}, errMissing
	case len(raw) > MaxTokenBytes:
		return "", time.Time{}, errTooLarge
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.NewParser(p.popts...).ParseWithClaims(raw, &claims, kf)
	if err != nil {
		return "", time.Time{}, p.classify(tok, &claims, err)
	}
	if claims.Subject == "" {
		return "", time.Time{}, errNoSub
	}
	if !notify.ValidUserID(claims.Subject) {
		return "", time.Time{}, errBadSub
	}
	if claims.ExpiresAt == nil { // enforced by the parser; kept as a guard
		return "", time.Time{}, errNoExp
	}
	return claims.Subject, claims.ExpiresAt.Time, nil
}

// classify maps a jwt parse error to a fixed rejection. The order matters:
// the first failed stage of verification names the error.
func (p *pinned) classify(tok *jwt.Token, claims *jwt.RegisteredClaims, err error) *notify.Error {
	var ne *notify.Error
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformed
	case tok == nil || tok.Method == nil || !slices.Contains(p.algs, tok.Method.Alg()):
		return errAlg
	case errors.As(err, &ne): // a rejection chosen by the key lookup
		return ne
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return errKeyUnknown
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return errSignature
	case !errors.Is(err, jwt.ErrTokenInvalidClaims):
		return errInvalid
	case claims.ExpiresAt == nil:
		return errNoExp
	case errors.Is(err, jwt.ErrTokenExpired):
		return errExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return errNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errIssuedFuture
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return errAudience
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return errIssuer
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// exp is handled above; what remains is aud or iss when required.
		if p.audience != "" && !slices.Contains(claims.Audience, p.audience) {
			return errAudience
		}
		return errIssuer
	default:
		return errInvalid
	}
}
