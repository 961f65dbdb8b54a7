package httpapi

import (
	"net/http"
	"strconv"
	"time"
)

// CORS settings for allowed origins.
const (
	corsMethods = "GET, POST, DELETE"
	corsHeaders = "Authorization, Content-Type, Last-Event-ID"
	corsExpose  = "Retry-After"
	corsMaxAge  = 10 * time.Minute
)

// cors implements the allow-list: a request whose Origin is exactly one of
// Options.AllowedOrigins gets that origin echoed with credentials allowed; any
// other origin gets no CORS headers, so browsers keep it out. A preflight
// (OPTIONS with Access-Control-Request-Method) is answered here with 204.
func (s *Server) cors(next http.Handler) http.Handler {
	maxAge := strconv.Itoa(int(corsMaxAge.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := s.origins[origin]
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed {
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", maxAge)
			}
			setAPIHeaders(h)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Expose-Headers", corsExpose)
		}
		next.ServeHTTP(w, r)
	})
}
