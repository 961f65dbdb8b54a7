package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/herald-notify/herald/internal/notify"
)

// maxBodyBytes bounds a publish request body (SPEC 5).
const maxBodyBytes = 64 << 10

type publishResponse struct {
	Notifications []notify.Receipt `json:"notifications"`
}

// handlePublish serves POST /api/publish/notifications: 202 with one receipt
// per stored notification, once they are durably stored.
func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request) {
	var p notify.Publication
	if err := decodeBody(w, r, &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	receipts, err := s.svc.Publish(r.Context(), &p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if receipts == nil {
		receipts = []notify.Receipt{}
	}
	s.writeJSON(w, r, http.StatusAccepted, publishResponse{Notifications: receipts})
}

// handleEvent serves POST /api/publish/events: 202 with the body {} once the
// event is stored (durable) or handed to the bus (transient).
func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	var e notify.SystemEvent
	if err := decodeBody(w, r, &e); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.SendEvent(r.Context(), &e); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusAccepted, struct{}{})
}

// decodeBody reads r's body into dst, strictly: a JSON Content-Type when one
// is given (else 415), at most 64 KiB (else 413), one JSON object decoded
// by notify.DecodeJSON (else 400 naming the field or "body").
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return notify.Errorf(codeMediaType, "content-type: must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return bodyError(err)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return notify.Errorf(notify.CodeInvalid, "body: must be a JSON object")
	}
	return notify.DecodeJSON(trimmed, dst)
}

// bodyError classifies a failure to read a request body. None is the
// server's fault: a body over the limit (413), one that did not arrive
// before HERALD_READ_TIMEOUT (408; the connection is closed after the
// answer), or a client that went away mid-body (400, which no one reads).
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooLarge):
		return notify.Errorf(notify.CodeTooLarge, "body: must be at most %d bytes", maxBodyBytes)
	case errors.As(err, &netErr) && netErr.Timeout():
		return notify.Errorf(codeTimeout, "body: not received in time")
	}
	return notify.Errorf(notify.CodeInvalid, "body: could not be read")
}
