// Package httpapi serves Herald's HTTP API (SPEC sections 2–6) on net/http:
// subscriber authentication and stream tickets, the inbox, the publish and
// admin APIs, health and readiness, CORS and access logging. The SSE loop
// itself lives behind Streamer.
package httpapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/ratelimit"
)

// Verifier turns a subscriber token into a user id and the token's expiry.
// A missing, malformed, badly signed or expired token is an *notify.Error
// with code "unauthorized"; a failure to verify at all (a JWKS endpoint
// down) is any other error. Safe for concurrent use.
type Verifier interface {
	Verify(ctx context.Context, token string) (userID string, expiry time.Time, err error)
}

// TicketStore keeps stream tickets; it is the subset of notify.Store the API
// needs, with the same contract (a ticket is consumed at most once across all
// instances; an unknown or expired one is notify.ErrNotFound; a user over
// max outstanding tickets is notify.ErrTooManyTickets).
type TicketStore interface {
	CreateTicket(ctx context.Context, t notify.Ticket, now time.Time, max int) error
	ConsumeTicket(ctx context.Context, hash string, now time.Time) (notify.Ticket, error)
}

// Streamer serves one SSE stream for an authenticated user. It returns an
// error WITHOUT having written anything when the stream cannot be opened (an
// error of code "limited" becomes 429, notify.CodeUnavailable 503, others as
// writeError maps them; an error implementing RetryAfterer sets Retry-After);
// once it has written the response it returns nil. tokenExpiry is when the
// credentials behind the stream expire: the stream must end by then.
// lastEventID is the client's resume id ("" for none), unvalidated.
type Streamer interface {
	ServeStream(w http.ResponseWriter, r *http.Request, userID string, tokenExpiry time.Time, lastEventID string) error
}

// StatsSource reports this instance's live connections. Safe for concurrent use.
type StatsSource interface {
	Connections() int
	Users() int
	UserConnections(userID string) int
}

// Check is one readiness dependency ("store", "bus", "queue"). Ping must
// honour ctx, which carries a 2 s deadline.
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Options configures a Server. Service, Tickets, Verifier, PublisherKey,
// Streams and Stats are required; the rest is optional.
type Options struct {
	Service      *notify.Service
	Tickets      TicketStore
	Verifier     Verifier
	PublisherKey string // bearer key of the publish and admin APIs

	Streams    Streamer
	Stats      StatsSource
	InstanceID string // reported by /api/admin/stats

	// TicketsPerMinute limits the stream tickets one user obtains from this
	// instance: that many at once, then one per minute/TicketsPerMinute
	// (429 with Retry-After beyond); 0 means no limit.
	TicketsPerMinute int
	// MaxTicketsPerUser bounds a user's unused, unexpired tickets in the
	// store, across instances (429 beyond); 0 means no bound.
	MaxTicketsPerUser int

	AllowedOrigins []string    // exact "scheme://host[:port]" origins allowed by CORS
	Checks         []Check     // run by /readyz
	Draining       func() bool // true once shutdown began: /readyz and new streams answer 503

	Metrics http.Handler // optional, mounted at GET /metrics
	Web     http.Handler // optional, serves GET requests outside /api/ that match no route (the demo page)

	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default: time.Now
}

// Server is Herald's HTTP API. It implements http.Handler and is safe for
// concurrent use. Build it with New.
type Server struct {
	svc      *notify.Service
	tickets  TicketStore
	verifier Verifier
	keyHash  [sha256.Size]byte // sha256 of the publisher key: compared in constant time, length included
	// ticketRate limits tickets per user on this instance (nil: no limit);
	// maxTickets bounds a user's outstanding tickets in the store (0: none).
	ticketRate *ratelimit.Limiter
	maxTickets int
	streams    Streamer
	stats      StatsSource
	instance   string
	checks     []Check
	checkLog   *checkLog
	draining   func() bool
	web        http.Handler
	log        *slog.Logger
	now        func() time.Time

	origins map[string]bool
	csrf    *http.CrossOriginProtection
	mux     *http.ServeMux
	handler http.Handler
}

var _ http.Handler = (*Server)(nil)

// New validates o and returns a Server.
func New(o Options) (*Server, error) {
	switch {
	case o.Service == nil:
		return nil, errors.New("httpapi: Service is required")
	case o.Tickets == nil:
		return nil, errors.New("httpapi: Tickets is required")
	case o.Verifier == nil:
		return nil, errors.New("httpapi: Verifier is required")
	case o.PublisherKey == "":
		return nil, errors.New("httpapi: PublisherKey is required")
	case o.Streams == nil:
		return nil, errors.New("httpapi: Streams is required")
	case o.Stats == nil:
		return nil, errors.New("httpapi: Stats is required")
	}
	for _, c := range o.Checks {
		if c.Name == "" || c.Ping == nil {
			return nil, fmt.Errorf("httpapi: check %q needs a name and a Ping", c.Name)
		}
	}
	s := &Server{
		svc: o.Service, tickets: o.Tickets, verifier: o.Verifier,
		keyHash: sha256.Sum256([]byte(o.PublisherKey)),
		streams: o.Streams, stats: o.Stats, instance: o.InstanceID,
		checks: o.Checks, draining: o.Draining, web: o.Web, log: o.Logger, now: o.Now,
		maxTickets: max(o.MaxTicketsPerUser, 0),
		origins:    make(map[string]bool, len(o.AllowedOrigins)),
		csrf:       http.NewCrossOriginProtection(),
		mux:        http.NewServeMux(),
	}
	if s.draining == nil {
		s.draining = func() bool { return false }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.checkLog = newCheckLog(s.log)
	if o.TicketsPerMinute > 0 {
		s.ticketRate = ratelimit.New(o.TicketsPerMinute, time.Minute, ticketRateUsers)
	}
	for _, origin := range o.AllowedOrigins {
		if err := s.csrf.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("httpapi: allowed origin %q: %w", origin, err)
		}
		s.origins[origin] = true
	}
	s.routes(o.Metrics)
	s.handler = s.logRequests(s.cors(s.crossOriginCheck(http.HandlerFunc(s.route))))
	return s, nil
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) routes(metrics http.Handler) {
	m := s.mux
	m.HandleFunc("GET /api/notifications/sse", s.handleStream)
	m.HandleFunc("POST /api/notifications/sse/ticket", s.subscriber(s.handleTicket))

	m.HandleFunc("GET /api/notifications", s.subscriber(s.handleList))
	m.HandleFunc("GET /api/notifications/unread-count", s.subscriber(s.handleUnreadCount))
	m.HandleFunc("POST /api/notifications/read-all", s.subscriber(s.handleReadAll))
	m.HandleFunc("POST /api/notifications/{id}/read", s.subscriber(s.handleMarkRead))
	m.HandleFunc("DELETE /api/notifications/{id}", s.subscriber(s.handleDelete))

	m.HandleFunc("POST /api/publish/notifications", s.publisher(s.handlePublish))
	m.HandleFunc("POST /api/publish/events", s.publisher(s.handleEvent))
	m.HandleFunc("GET /api/admin/stats", s.publisher(s.handleStats))
	m.HandleFunc("POST /api/admin/import", s.publisher(s.handleImport))
	m.HandleFunc("DELETE /api/admin/users/{id}", s.publisher(s.handleEraseUser))

	m.HandleFunc("GET /healthz", s.handleHealth)
	m.HandleFunc("GET /readyz", s.handleReady)
	if metrics != nil {
		m.Handle("GET /metrics", metrics)
	}
}
