// Package web holds the demo inbox page served by `herald serve --dev`,
// embedded into the binary so that `go run` needs no Node toolchain.
//
// Dev mode only: the page logs in as any user through GET /dev/session,
// which mints a subscriber token and hands out the publisher key so the
// page can send notifications. Never mount it in production.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"

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
		if !notify.ValidUserID(user) {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
				"code": "invalid", "message": "user: must be 1 to 256 bytes without control characters"}})
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
