// Package web holds the demo inbox page served by `herald serve --dev`,
// embedded into the binary so that `go run` needs no Node toolchain.
//
// Dev mode only: the page logs in as any user through GET /dev/session,
// which mints a subscriber token and hands out the publisher key so the
// page can send notifications. Never mount it in production. Even in dev
// mode the session is handed only to this machine (see localRequest): a
// request from another address, or naming another host (a DNS-rebound name
// from a web page the developer has open), or sent by a page on another
// host, gets 403.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/herald-notify/herald/internal/notify"
)

//go:embed static
var static embed.FS

// Options configure the demo page.
type Options struct {
	// Mint returns a subscriber token for userID.
	Mint func(userID string) (string, error)
	// PublisherKey is handed to the page for its send form.
	PublisherKey string
}

// Handler serves the demo page, its assets and GET /dev/session?user=ID.
func Handler(o Options) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /dev/session", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if why := localRequest(r); why != "" {
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
				"code": "forbidden", "message": "dev session: only for this machine: " + why}})
			return
		}
		if err := notify.CheckUserID("user", user); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
				"code": "invalid", "message": notify.ErrorMessage(err)}})
			return
		}
		token, err := o.Mint(user)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":{"code":"internal","message":"internal error"}}` + "\n"))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": token, "publisherKey": o.PublisherKey, "userId": user})
	})
	return mux
}

// localRequest returns "" when r comes from this machine, else what is not
// local about it: the remote address must be loopback, the Host header a
// loopback name (localhost, 127.x.x.x, [::1], any port), and an Origin,
// when sent, a loopback origin too.
func localRequest(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !loopbackIP(host) {
		return "the client's address is not loopback"
	}
	if !loopbackHost(hostOnly(r.Host)) {
		return "the Host header does not name a loopback address"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !loopbackHost(u.Hostname()) {
			return "the request comes from a page on another host"
		}
	}
	return ""
}

// hostOnly strips the port from a Host header, and the brackets of an
// IPv6 literal.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

func loopbackHost(h string) bool { return strings.EqualFold(h, "localhost") || loopbackIP(h) }

func loopbackIP(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
