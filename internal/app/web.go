package app

import (
	"net/http"
	"time"

	"github.com/herald-notify/herald/internal/auth"
	"github.com/herald-notify/herald/internal/config"
	"github.com/herald-notify/herald/web"
)

// devTokenTTL is the lifetime of the tokens the demo page mints.
const devTokenTTL = time.Hour

// webHandler serves the demo inbox page in dev mode, nothing otherwise.
func webHandler(cfg *config.Config) http.Handler {
	if !cfg.Dev {
		return nil
	}
	return web.Handler(web.Options{
		Mint: func(userID string) (string, error) {
			return auth.SignHS256([]byte(cfg.JWTSecret), userID, devTokenTTL, time.Now())
		},
		PublisherKey: string(cfg.PublisherKey),
	})
}
