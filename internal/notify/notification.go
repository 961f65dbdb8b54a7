package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a publication. They are part of the public contract (SPEC 5).
const (
	MaxTypeLen        = 64
	MaxTitleLen       = 256      // characters
	MaxMessageBytes   = 4 << 10  // 4 KiB
	MaxDataBytes      = 16 << 10 // 16 KiB
	MaxLinkBytes      = 2048
	MaxKeyBytes       = 256 // idempotencyKey, collapseKey
	MaxUserIDBytes    = 256
	MaxRecipients     = 1000 // userIds per request
	MaxEventNameLen   = 64
	IdempotencyWindow = 24 * time.Hour
)

// Notification is one entry of a user's inbox, as clients see it.
// A broadcast notification is stored once and appears in every inbox; its
// ReadAt is that of the user reading it.
type Notification struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Title     string          `json:"title"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	Link      string          `json:"link"`
	CreatedAt time.Time       `json:"createdAt"`
	ReadAt    *time.Time      `json:"readAt"`

	// UserID is the recipient, BroadcastStream for a broadcast. Not sent to
	// clients: a client only ever sees its own inbox.
	UserID string `json:"-"`
	// CollapseKey groups notifications of which a user keeps one unread.
	CollapseKey string `json:"-"`
}

// Publication is a publish request (SPEC 5), from HTTP or the queue.
type Publication struct {
	UserID         string          `json:"userId"`
	UserIDs        []string        `json:"userIds"`
	Broadcast      bool            `json:"broadcast"`
	Type           string          `json:"type"`
	Title          string          `json:"title"`
	Message        string          `json:"message"`
	Data           json.RawMessage `json:"data"`
	Link           string          `json:"link"`
	IdempotencyKey string          `json:"idempotencyKey"`
	CollapseKey    string          `json:"collapseKey"`
}

// Receipt acknowledges one stored notification (one per recipient).
type Receipt struct {
	ID        string `json:"id"`
	UserID    string `json:"userId,omitempty"`
	Broadcast bool   `json:"broadcast,omitempty"`
}

// Recipients returns the validated, de-duplicated user ids p addresses
// (nil for a broadcast).
func (p *Publication) Recipients() []string {
	if p.Broadcast {
		return nil
	}
	if p.UserID != "" {
		return []string{p.UserID}
	}
	seen := make(map[string]struct{}, len(p.UserIDs))
	out := make([]string, 0, len(p.UserIDs))
	for _, u := range p.UserIDs {
		if _, ok := seen[u]; !ok {
			seen[u] = struct{}{}
			out = append(out, u)
		}
	}
	return out
}

// Validate checks p against SPEC 5. The error is of CodeInvalid and its
// message starts with the name of the field at fault.
func (p *Publication) Validate() error {
	if err := validateAudience(p.UserID, p.UserIDs, p.Broadcast); err != nil {
		return err
	}
	switch {
	case p.Type == "":
		return Errorf(CodeInvalid, "type: required")
	case len(p.Type) > MaxTypeLen || !isName(p.Type, false):
		return Errorf(CodeInvalid, "type: must be 1 to %d characters of [a-z0-9._-]", MaxTypeLen)
	case p.Title == "":
		return Errorf(CodeInvalid, "title: required")
	case !utf8.ValidString(p.Title) || utf8.RuneCountInString(p.Title) > MaxTitleLen:
		return Errorf(CodeInvalid, "title: must be valid UTF-8 of at most %d characters", MaxTitleLen)
	case strings.ContainsRune(p.Title, 0):
		return Errorf(CodeInvalid, "title: must not contain NUL")
	case !utf8.ValidString(p.Message) || len(p.Message) > MaxMessageBytes:
		return Errorf(CodeInvalid, "message: must be valid UTF-8 of at most %d bytes", MaxMessageBytes)
	case strings.ContainsRune(p.Message, 0):
		return Errorf(CodeInvalid, "message: must not contain NUL")
	case !utf8.ValidString(p.Link) || len(p.Link) > MaxLinkBytes || hasControl(p.Link):
		return Errorf(CodeInvalid, "link: must be at most %d bytes without control characters", MaxLinkBytes)
	case !validKey(p.IdempotencyKey):
		return Errorf(CodeInvalid, "idempotencyKey: must be at most %d bytes without control characters", MaxKeyBytes)
	case !validKey(p.CollapseKey):
		return Errorf(CodeInvalid, "collapseKey: must be at most %d bytes without control characters", MaxKeyBytes)
	case p.CollapseKey != "" && p.Broadcast:
		return Errorf(CodeInvalid, "collapseKey: not supported with broadcast")
	}
	data, err := normalizeObject("data", p.Data, MaxDataBytes)
	if err != nil {
		return err
	}
	p.Data = data
	return nil
}

// SystemEvent is a request to send a named event outside the inbox (SPEC 5,
// POST /api/publish/events).
type SystemEvent struct {
	UserID    string          `json:"userId"`
	UserIDs   []string        `json:"userIds"`
	Broadcast bool            `json:"broadcast"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Durable   bool            `json:"durable"`
}

// Validate checks e against SPEC 5: audience, a name publishers may use, and
// data that is a JSON object (absent data becomes {}).
func (e *SystemEvent) Validate() error {
	if err := validateAudience(e.UserID, e.UserIDs, e.Broadcast); err != nil {
		return err
	}
	switch {
	case e.Event == "":
		return Errorf(CodeInvalid, "event: required")
	case len(e.Event) > MaxEventNameLen || !isName(e.Event, true):
		return Errorf(CodeInvalid, "event: must be 1 to %d characters of [A-Za-z0-9._-]", MaxEventNameLen)
	case ReservedEventName(e.Event):
		return Errorf(CodeInvalid, "event: %q is reserved (Herald's own names and message, error, open, in any case)", e.Event)
	}
	data, err := normalizeObject("data", e.Data, MaxDataBytes)
	if err != nil {
		return err
	}
	if data == nil {
		data = json.RawMessage("{}")
	}
	e.Data = data
	return nil
}

// Recipients is as Publication.Recipients.
func (e *SystemEvent) Recipients() []string {
	p := Publication{UserID: e.UserID, UserIDs: e.UserIDs, Broadcast: e.Broadcast}
	return p.Recipients()
}

func validateAudience(userID string, userIDs []string, broadcast bool) error {
	n := 0
	if userID != "" {
		n++
	}
	if userIDs != nil {
		n++
	}
	if broadcast {
		n++
	}
	if n != 1 {
		return Errorf(CodeInvalid, "userId: exactly one of userId, userIds or broadcast is required")
	}
	if userID != "" {
		return CheckUserID("userId", userID)
	}
	if userIDs != nil {
		if len(userIDs) == 0 || len(userIDs) > MaxRecipients {
			return Errorf(CodeInvalid, "userIds: must hold 1 to %d user ids", MaxRecipients)
		}
		for i, u := range userIDs {
			if err := CheckUserID(fmt.Sprintf("userIds[%d]", i), u); err != nil {
				return err
			}
		}
	}
	return nil
}

// normalizeObject accepts absent/null (returned as nil) or a JSON object of
// at most max bytes, returned compacted.
func normalizeObject(field string, raw json.RawMessage, max int) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, nil
	}
	if trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, Errorf(CodeInvalid, "%s: must be a JSON object", field)
	}
	// json.Valid does not look inside strings: raw bytes that are not
	// UTF-8 would reach the store (which may refuse them) and every client.
	if !utf8.Valid(trimmed) {
		return nil, Errorf(CodeInvalid, "%s: must be valid UTF-8", field)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, trimmed); err != nil {
		return nil, Errorf(CodeInvalid, "%s: must be a JSON object", field)
	}
	if buf.Len() > max {
		return nil, Errorf(CodeInvalid, "%s: must be at most %d bytes", field, max)
	}
	return buf.Bytes(), nil
}

func validKey(s string) bool {
	return len(s) <= MaxKeyBytes && utf8.ValidString(s) && !hasControl(s)
}
