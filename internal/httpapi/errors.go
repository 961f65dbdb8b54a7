package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-notify/herald/internal/notify"
)

// Codes only the HTTP adapter produces, for conditions of HTTP itself.
const (
	codeForbidden        notify.Code = "forbidden"              // 403: a cross-origin browser request was refused
	codeMethodNotAllowed notify.Code = "method_not_allowed"     // 405
	codeMediaType        notify.Code = "unsupported_media_type" // 415
	codeTimeout          notify.Code = "timeout"                // 408: the request's body did not arrive in time
)

// defaultRetryAfter is the Retry-After of a 429 or 503 whose error does not
// implement RetryAfterer.
const defaultRetryAfter = 5 * time.Second

// RetryAfterer is implemented by errors that know when the client should try
// again (a Streamer refusing a stream during a drain, say). writeError uses
// it for the Retry-After header of 429 and 503 responses; the method is
// matched structurally, so other packages need not import this one.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// statusOf maps a domain code to its HTTP status. It is the only place this
// mapping is made; an unknown code is an internal error.
func statusOf(code notify.Code) int {
	switch code {
	case notify.CodeInvalid:
		return http.StatusBadRequest
	case notify.CodeUnauth:
		return http.StatusUnauthorized
	case codeForbidden:
		return http.StatusForbidden
	case notify.CodeNotFound:
		return http.StatusNotFound
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeTimeout:
		return http.StatusRequestTimeout
	case notify.CodeConflict:
		return http.StatusConflict
	case notify.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeMediaType:
		return http.StatusUnsupportedMediaType
	case notify.CodeLimited:
		return http.StatusTooManyRequests
	case notify.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    notify.Code `json:"code"`
	Message string      `json:"message"`
	// Lines lists the bad lines of an import body (notify.ImportError).
	Lines []notify.LineError `json:"lines,omitempty"`
}

// writeError answers r with the status and JSON body for err:
// {"error":{"code":"…","message":"…"}}. Internal errors are logged with
// their details and shown to the client as "internal error" only; 401
// carries WWW-Authenticate, 429 and 503 carry Retry-After. Nothing must have
// been written to w yet.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := notify.ErrorCode(err)
	status := statusOf(code)
	msg := notify.ErrorMessage(err)
	switch status {
	case http.StatusInternalServerError:
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		code, msg = notify.CodeInternal, "internal error"
	case http.StatusServiceUnavailable:
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "unavailable",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		setRetryAfter(w.Header(), err)
	case http.StatusTooManyRequests:
		setRetryAfter(w.Header(), err)
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	}
	detail := errorDetail{Code: code, Message: msg}
	var bad *notify.ImportError
	if status == http.StatusBadRequest && errors.As(err, &bad) {
		detail.Lines = bad.Lines
	}
	s.writeJSON(w, r, status, errorBody{Error: detail})
}

// retryError is an error with the Retry-After its client should honour.
type retryError struct {
	err   error
	after time.Duration
}

// retryLater returns err carrying after as its Retry-After (see
// RetryAfterer).
func retryLater(err error, after time.Duration) error { return &retryError{err: err, after: after} }

func (e *retryError) Error() string             { return e.err.Error() }
func (e *retryError) Unwrap() error             { return e.err }
func (e *retryError) RetryAfter() time.Duration { return e.after }

func setRetryAfter(h http.Header, err error) {
	d := defaultRetryAfter
	var ra RetryAfterer
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		d = ra.RetryAfter()
	}
	secs := int64(math.Ceil(d.Seconds()))
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}

// writeJSON writes v as the JSON body of an API response with status, and
// the headers every API response carries.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "encode response",
			slog.String("path", r.URL.Path), slog.Any("err", err))
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	setAPIHeaders(h)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // a failed write means the client went away
}

// writeNoContent answers 204 with the API headers.
func writeNoContent(w http.ResponseWriter) {
	setAPIHeaders(w.Header())
	w.WriteHeader(http.StatusNoContent)
}

func setAPIHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}
