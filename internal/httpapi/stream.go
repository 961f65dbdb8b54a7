package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Stream tickets (SPEC 2).
const (
	ticketTTL      = 60 * time.Second
	ticketBytes    = 32
	maxTicketChars = 64 // base64url of 32 bytes is 43 characters
	// ticketRateUsers is how many users the per-instance ticket rate limit
	// remembers at once (about 150 bytes each); beyond it the least recently
	// seen is forgotten. A user is forgotten anyway once idle for a minute.
	ticketRateUsers = 50_000
)

type ticketResponse struct {
	Ticket    string    `json:"ticket"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// handleTicket issues a one-time stream ticket for the subscriber: 32 random
// bytes, base64url, stored by hash only, valid for 60 s or until the token
// expires if that is sooner. The stream it opens ends when the token does.
//
// Minting is limited per user: by the rate limit of this instance, then by
// the store's bound on unused tickets; either answers 429 with Retry-After.
func (s *Server) handleTicket(w http.ResponseWriter, r *http.Request, id identity) {
	now := s.now()
	if s.ticketRate != nil {
		if ok, wait := s.ticketRate.Allow(id.userID, now); !ok {
			s.writeError(w, r, retryLater(notify.Errorf(notify.CodeLimited, "too many stream tickets; retry later"), wait))
			return
		}
	}
	var raw [ticketBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24+)
	ticket := base64.RawURLEncoding.EncodeToString(raw[:])

	expires := now.Add(ticketTTL)
	if id.expiry.Before(expires) {
		expires = id.expiry
	}
	err := s.tickets.CreateTicket(r.Context(), notify.Ticket{
		Hash: hashTicket(ticket), UserID: id.userID, TokenExpiry: id.expiry, ExpiresAt: expires,
	}, now, s.maxTickets)
	switch {
	case errors.Is(err, notify.ErrTooManyTickets):
		// The oldest unused ticket expires within ticketTTL.
		s.writeError(w, r, retryLater(err, ticketTTL))
		return
	case err != nil:
		s.writeError(w, r, fmt.Errorf("create ticket: %w", err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, ticketResponse{Ticket: ticket, ExpiresAt: expires.UTC()})
}

// hashTicket is the stored form of a ticket: hex(sha256(ticket)).
func hashTicket(ticket string) string {
	sum := sha256.Sum256([]byte(ticket))
	return hex.EncodeToString(sum[:])
}

// handleStream authenticates a stream request (a ?ticket=, else a subscriber
// token), refuses one authenticated by a cookie from another site (see
// sameSiteOrAllowed), picks the resume id (Last-Event-ID, else ?lastEventId=) and hands
// the request to the Streamer; an error from it becomes the JSON error
// response. New streams are refused with 503 while the server drains.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet { // the GET pattern also matches HEAD, which cannot carry a stream
		w.Header().Set("Allow", http.MethodGet)
		s.writeError(w, r, notify.Errorf(codeMethodNotAllowed, "method %s not allowed", r.Method))
		return
	}
	if s.draining() {
		s.writeError(w, r, notify.Errorf(notify.CodeUnavailable, "server is shutting down"))
		return
	}
	id, err := s.streamIdentity(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if id.cookie && !s.sameSiteOrAllowed(r) {
		s.writeError(w, r, notify.Errorf(codeForbidden,
			"cross-site stream refused: open it with a ticket, or from an allowed origin"))
		return
	}
	lastEventID := r.Header.Get("Last-Event-ID")
	if lastEventID == "" {
		lastEventID = r.URL.Query().Get("lastEventId")
	}
	if err := s.streams.ServeStream(w, withoutTicket(r), id.userID, id.expiry, lastEventID); err != nil {
		s.writeError(w, r, err)
	}
}

// streamIdentity authenticates a stream request. A ticket, when present,
// is the only credential considered; it is consumed even if the stream is
// then refused.
func (s *Server) streamIdentity(r *http.Request) (identity, error) {
	q := r.URL.Query()
	if !q.Has("ticket") {
		return s.authenticateSubscriber(r)
	}
	ticket := q.Get("ticket")
	if ticket == "" || len(ticket) > maxTicketChars {
		return identity{}, errUnauthorized("invalid or expired ticket")
	}
	now := s.now()
	t, err := s.tickets.ConsumeTicket(r.Context(), hashTicket(ticket), now)
	switch {
	case errors.Is(err, notify.ErrNotFound) || notify.ErrorCode(err) == notify.CodeNotFound:
		return identity{}, errUnauthorized("invalid or expired ticket")
	case err != nil:
		return identity{}, fmt.Errorf("consume ticket: %w", err)
	case !t.TokenExpiry.After(now) || !notify.ValidUserID(t.UserID):
		return identity{}, errUnauthorized("invalid or expired ticket")
	}
	return identity{userID: t.UserID, expiry: t.TokenExpiry}, nil
}

// withoutTicket returns r, or a shallow copy of r whose URL no longer
// carries the ticket, so that nothing downstream can log it.
func withoutTicket(r *http.Request) *http.Request {
	q := r.URL.Query()
	if !q.Has("ticket") {
		return r
	}
	q.Del("ticket")
	r2 := r.WithContext(r.Context())
	u := *r.URL
	u.RawQuery = q.Encode()
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2
}
