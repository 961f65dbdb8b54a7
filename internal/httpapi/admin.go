package httpapi

import (
	"net/http"

	"github.com/herald-notify/herald/internal/notify"
)

type statsResponse struct {
	Connections     int    `json:"connections"`
	Users           int    `json:"users"`
	Instance        string `json:"instance"`
	UserConnections *int   `json:"userConnections,omitempty"`
}

// handleStats serves GET /api/admin/stats[?userId=]: this instance's live
// connections and users, and with userId that user's connections.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	resp := statsResponse{
		Connections: s.stats.Connections(),
		Users:       s.stats.Users(),
		Instance:    s.instance,
	}
	if q := r.URL.Query(); q.Has("userId") {
		user := q.Get("userId")
		if err := notify.CheckUserID("userId", user); err != nil {
			s.writeError(w, r, err)
			return
		}
		n := s.stats.UserConnections(user)
		resp.UserConnections = &n
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}
