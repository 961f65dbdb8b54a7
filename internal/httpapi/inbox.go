package httpapi

import (
	"net/http"
	"strconv"

	"github.com/herald-notify/herald/internal/notify"
)

// Inbox paging (SPEC 4).
const (
	defaultPageSize = 50
	maxPageSize     = 100
	maxIDBytes      = 64 // a longer notification id or cursor cannot exist
)

type listResponse struct {
	Notifications []notify.Notification `json:"notifications"`
	NextCursor    *string               `json:"nextCursor"`
}

// handleList serves GET /api/notifications?limit=&cursor=&unread=.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, id identity) {
	q, err := parseListQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.svc.List(r.Context(), id.userID, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := listResponse{Notifications: page.Notifications}
	if resp.Notifications == nil {
		resp.Notifications = []notify.Notification{}
	}
	if page.Next != "" {
		resp.NextCursor = &page.Next
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

func parseListQuery(r *http.Request) (notify.ListQuery, error) {
	v := r.URL.Query()
	q := notify.ListQuery{Limit: defaultPageSize, Before: v.Get("cursor")}
	if v.Has("limit") {
		n, err := strconv.Atoi(v.Get("limit"))
		if err != nil || n < 1 || n > maxPageSize {
			return q, notify.Errorf(notify.CodeInvalid, "limit: must be an integer from 1 to %d", maxPageSize)
		}
		q.Limit = n
	}
	if !validCursor(q.Before) {
		return q, notify.Errorf(notify.CodeInvalid, "cursor: malformed")
	}
	if v.Has("unread") {
		b, err := strconv.ParseBool(v.Get("unread"))
		if err != nil {
			return q, notify.Errorf(notify.CodeInvalid, "unread: must be true or false")
		}
		q.UnreadOnly = b
	}
	return q, nil
}

// validCursor accepts "" (the first page) and what can be a notification id:
// at most 64 ASCII letters and digits.
func validCursor(s string) bool {
	if len(s) > maxIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// handleUnreadCount serves GET /api/notifications/unread-count.
func (s *Server) handleUnreadCount(w http.ResponseWriter, r *http.Request, id identity) {
	n, err := s.svc.UnreadCount(r.Context(), id.userID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Count int `json:"count"`
	}{n})
}

// handleMarkRead serves POST /api/notifications/{id}/read.
func (s *Server) handleMarkRead(w http.ResponseWriter, r *http.Request, id identity) {
	nid := r.PathValue("id")
	if len(nid) > maxIDBytes {
		s.writeError(w, r, notify.ErrNotFound)
		return
	}
	if err := s.svc.MarkRead(r.Context(), id.userID, nid); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeNoContent(w)
}

// handleReadAll serves POST /api/notifications/read-all.
func (s *Server) handleReadAll(w http.ResponseWriter, r *http.Request, id identity) {
	n, err := s.svc.MarkAllRead(r.Context(), id.userID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, struct {
		Updated int `json:"updated"`
	}{n})
}

// handleDelete serves DELETE /api/notifications/{id}.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, id identity) {
	nid := r.PathValue("id")
	if len(nid) > maxIDBytes {
		s.writeError(w, r, notify.ErrNotFound)
		return
	}
	if err := s.svc.Delete(r.Context(), id.userID, nid); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeNoContent(w)
}
