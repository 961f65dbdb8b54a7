package httpapi

import (
	"bytes"
	"net/http"
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
