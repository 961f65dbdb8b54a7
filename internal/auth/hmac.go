package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/herald-notify/herald/internal/notify"
)

// MinSecretBytes is the shortest HS256 secret accepted: the hash's own
// output size, below which HMAC-SHA256 is weaker than it could be.
const MinSecretBytes = 32

// HMACVerifier verifies HS256 subscriber tokens signed with a shared secret.
// It is immutable after construction and safe for concurrent use.
type HMACVerifier struct {
	secret []byte
	policy *pinned
}

var _ Verifier = (*HMACVerifier)(nil)

// NewHMAC returns a verifier of HS256 tokens signed with secret. It refuses a
// secret shorter than MinSecretBytes and invalid opts. The secret is copied;
// the caller may reuse its slice.
func NewHMAC(secret []byte, opts Options) (*HMACVerifier, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	p, err := newPinned(opts, jwt.SigningMethodHS256.Alg())
	if err != nil {
		return nil, fmt.Errorf("hmac verifier: %w", err)
	}
	return &HMACVerifier{secret: append([]byte(nil), secret...), policy: p}, nil
}

// Verify implements Verifier. Only HS256 is accepted; ctx is unused.
func (v *HMACVerifier) Verify(_ context.Context, token string) (string, time.Time, error) {
	return v.policy.parse(token, v.key)
}

// key hands the secret to the parser, for HS256 only. The parser has already
// refused other algorithms; checking again keeps the secret from ever being
// used with another method should that change.
func (v *HMACVerifier) key(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 {
		return nil, errAlg
	}
	return v.secret, nil
}

// SignHS256 mints a subscriber token for userID with claims sub, iat (now) and
// exp (now+ttl), both at second precision, signed with secret. It refuses a
// short secret, an invalid user id and a non-positive ttl. The token is a
// credential: print it for the user who asked, never log it.
func SignHS256(secret []byte, userID string, ttl time.Duration, now time.Time) (string, error) {
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	if err := notify.CheckUserID("user id", userID); err != nil {
		return "", fmt.Errorf("sign token: %s", notify.ErrorMessage(err))
	}
	if ttl <= 0 {
		return "", fmt.Errorf("sign token: ttl must be positive, got %s", ttl)
	}
	claims := jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// errShortSecret is returned for a secret under MinSecretBytes; the message
// gives the length, never the secret.
var errShortSecret = errors.New("jwt secret too short")

func checkSecret(secret []byte) error {
	if len(secret) < MinSecretBytes {
		return fmt.Errorf("%w: need at least %d bytes, got %d", errShortSecret, MinSecretBytes, len(secret))
	}
	return nil
}
