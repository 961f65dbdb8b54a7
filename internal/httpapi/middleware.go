package httpapi

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"github.com/herald-notify/herald/internal/notify"
)

// route dispatches r to its route. A request that matches no route goes to
// the Web handler when it is a GET or HEAD outside /api/, and otherwise gets
// a JSON 404 or 405 (with Allow) instead of ServeMux's plain-text answers.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r) // (re-)matches, and sets r's path values
		return
	}
	if s.web != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.URL.Path != "/api" && !strings.HasPrefix(r.URL.Path, "/api/") {
		s.web.ServeHTTP(w, r)
		return
	}
	// No route: let the mux decide between 404, 405 and a path-cleaning
	// redirect, capture its answer, and rewrite the errors as JSON.
	c := &capture{header: make(http.Header)}
	s.mux.ServeHTTP(c, r)
	switch c.status {
	case http.StatusNotFound:
		s.writeError(w, r, notify.Errorf(notify.CodeNotFound, "no such route"))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", c.header.Get("Allow"))
		s.writeError(w, r, notify.Errorf(codeMethodNotAllowed, "method %s not allowed", r.Method))
	default:
		for k, v := range c.header {
			w.Header()[k] = v
		}
		w.WriteHeader(c.status)
		_, _ = w.Write(c.body.Bytes())
	}
}

// capture records the small responses ServeMux writes for unmatched requests.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(p)
}

// crossOriginCheck refuses state-changing browser requests from origins
// that are neither this one nor allowed, so that a page elsewhere cannot use
// the herald_token cookie (CSRF). Requests without Sec-Fetch-Site and Origin
// (servers, curl) and safe methods pass.
func (s *Server) crossOriginCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.csrf.Check(r); err != nil {
			s.writeError(w, r, notify.Errorf(codeForbidden, "cross-origin request refused"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameSiteOrAllowed reports whether r comes from this site or an allowed
// origin, as far as the browser says: the test for a stream authenticated
// by a cookie (SPEC 2). A page on another site can make the browser open
// streams with the user's cookie (an <img> or <script> tag, which sends
// Sec-Fetch-Site: cross-site and maybe no Origin) and so use up the user's
// connection slots; the stream is only read by its own page, so only a
// cookie makes this possible. Tickets and Authorization headers cannot be
// sent by another site and are not checked.
//
// An Origin in the allow-list passes. Otherwise Sec-Fetch-Site decides
// when the browser sends it: same-origin and none (the user's own
// navigation) pass; same-site passes unless it carries an Origin other than
// this host (a CORS request from a sibling origin that is not allowed);
// cross-site fails. Without Sec-Fetch-Site (older browsers, non-browsers)
// an Origin must name this host; no Origin passes.
func (s *Server) sameSiteOrAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin != "" && s.origins[origin] {
		return true
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "cross-site":
		return false
	}
	return origin == "" || originIsHost(origin, r.Host)
}

// originIsHost reports whether origin (scheme://host[:port]) names host
// (the request's Host), as net/http's CrossOriginProtection compares them.
func originIsHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}
