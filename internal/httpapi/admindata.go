package httpapi

import (
	"errors"
	"mime"
	"net/http"

	"github.com/herald-notify/herald/internal/notify"
)

// importMediaTypes are the Content-Types an import body may declare:
// JSON Lines under its usual names, JSON, and plain text (curl
// --data-binary's default is a form type, which is refused).
var importMediaTypes = map[string]bool{
	"application/jsonl": true, "application/x-ndjson": true, "application/x-jsonlines": true,
	"application/json": true, "text/plain": true,
}

// handleImport serves POST /api/admin/import (SPEC 6): a JSON Lines body of
// at most notify.MaxImportLines lines and notify.MaxImportBytes; 200
// {"imported":N,"skipped":M} once stored, 400 naming every bad line (up to
// 100) and storing nothing, 413 over the limits.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !importMediaTypes[mt] {
			s.writeError(w, r, notify.Errorf(codeMediaType,
				"content-type: must be application/jsonl (or application/x-ndjson, application/json, text/plain)"))
			return
		}
	}
	body := http.MaxBytesReader(w, r.Body, notify.MaxImportBytes)
	res, err := s.svc.ImportLines(r.Context(), body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = notify.Errorf(notify.CodeTooLarge, "body: must be at most %d bytes", notify.MaxImportBytes)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// handleEraseUser serves DELETE /api/admin/users/{id} (SPEC 6): 204 once
// everything stored about the user is erased and their streams are told to
// end; erasing again answers 204 too.
func (s *Server) handleEraseUser(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.EraseUser(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeNoContent(w)
}
