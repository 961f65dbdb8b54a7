package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// tokenCookie is the cookie a browser may carry its subscriber token in.
const tokenCookie = "herald_token"

// identity is an authenticated subscriber.
type identity struct {
	userID string
	expiry time.Time // when the credentials behind this request expire
	// cookie is set when a cookie authenticated the request (herald_token
	// or a session cookie), which a browser attaches to requests that
	// other sites make too.
	cookie bool
}

// SessionVerifier is an optional interface of a Verifier: it authenticates a
// request by the session cookie of the host application (a next-auth
// session, see auth.NextAuthVerifier). It is consulted only when the request
// carries neither a bearer token nor the herald_token cookie. found is false
// when the request has no such cookie; otherwise err is nil or a rejection as
// from Verify. Implementations are safe for concurrent use.
type SessionVerifier interface {
	VerifySession(ctx context.Context, r *http.Request) (userID string, expiry time.Time, found bool, err error)
}

func errUnauthorized(msg string) error { return notify.Errorf(notify.CodeUnauth, "%s", msg) }

// bearer returns the credentials of an "Authorization: Bearer …" header,
// present=false without the header, and an error for another scheme or an
// empty value.
func bearer(r *http.Request) (token string, present bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", true, errUnauthorized("authorization: expected a bearer token")
	}
	return token, true, nil
}

// authenticateSubscriber verifies the subscriber token of r, from the
// Authorization header, else the herald_token cookie, else (when the
// Verifier is a SessionVerifier) a session cookie of the host application.
// The publisher key is refused even if a Verifier would accept it.
func (s *Server) authenticateSubscriber(r *http.Request) (identity, error) {
	token, present, err := bearer(r)
	if err != nil {
		return identity{}, err
	}
	cookie := false
	if !present {
		if c, cerr := r.Cookie(tokenCookie); cerr == nil {
			token, cookie = c.Value, true
		}
	}
	if token == "" {
		return s.authenticateSession(r)
	}
	if s.isPublisherKey(token) {
		return identity{}, errUnauthorized("invalid token")
	}
	userID, expiry, err := s.verifier.Verify(r.Context(), token)
	if err != nil {
		return identity{}, err
	}
	if !notify.ValidUserID(userID) || !expiry.After(s.now()) {
		return identity{}, errUnauthorized("invalid token")
	}
	return identity{userID: userID, expiry: expiry, cookie: cookie}, nil
}

// authenticateSession verifies the host application's session cookie of r,
// when the Verifier knows how.
func (s *Server) authenticateSession(r *http.Request) (identity, error) {
	sv, ok := s.verifier.(SessionVerifier)
	if !ok {
		return identity{}, errUnauthorized("missing token")
	}
	userID, expiry, found, err := sv.VerifySession(r.Context(), r)
	switch {
	case !found:
		return identity{}, errUnauthorized("missing token")
	case err != nil:
		return identity{}, err
	case !notify.ValidUserID(userID) || !expiry.After(s.now()):
		return identity{}, errUnauthorized("invalid token")
	}
	return identity{userID: userID, expiry: expiry, cookie: true}, nil
}

// isPublisherKey compares token with the publisher key in constant time,
// hashing both first so that not even the key's length leaks.
func (s *Server) isPublisherKey(token string) bool {
	h := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(h[:], s.keyHash[:]) == 1
}

// subscriber wraps a handler that needs a subscriber.
func (s *Server) subscriber(h func(http.ResponseWriter, *http.Request, identity)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.authenticateSubscriber(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, id)
	}
}

// publisher wraps a handler of the publish or admin API: it requires
// "Authorization: Bearer <publisher key>" (never a cookie, never a
// subscriber token).
func (s *Server) publisher(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, present, err := bearer(r)
		switch {
		case err != nil:
			s.writeError(w, r, err)
		case !present:
			s.writeError(w, r, errUnauthorized("missing publisher key"))
		case !s.isPublisherKey(token):
			s.writeError(w, r, errUnauthorized("invalid publisher key"))
		default:
			h(w, r)
		}
	}
}
