package notify

import (
	"strings"
	"testing"
)

func TestSystemEventNames(t *testing.T) {
	t.Parallel()
	refused := []string{
		// Herald's own, in any case
		"connected", "Connected", "notification", "NOTIFICATION", "notification.read",
		"notification.anything", "Notification.Read", "unread-count", "Unread-Count", "reset", "RESET",
		"live", "Live", "LIVE",
		// what EventSource dispatches by itself
		"message", "Message", "error", "ERROR", "open", "oPeN",
		// not a name
		"", "bad name", "a\nb", "a:b", "é", strings.Repeat("a", MaxEventNameLen+1),
	}
	for _, name := range refused {
		e := SystemEvent{UserID: "u", Event: name}
		if err := e.Validate(); ErrorCode(err) != CodeInvalid || !strings.HasPrefix(ErrorMessage(err), "event:") {
			t.Errorf("event %q: %v, want invalid naming event", name, err)
		}
		if ValidSystemEventName(name) {
			t.Errorf("ValidSystemEventName(%q) = true", name)
		}
	}
	for _, name := range []string{"Deploy.Started", "notifications", "notificationX", "messages", "opened", "errors", "live-ish", "resets", strings.Repeat("a", MaxEventNameLen)} {
		e := SystemEvent{Broadcast: true, Event: name}
		if err := e.Validate(); err != nil || string(e.Data) != "{}" || !ValidSystemEventName(name) {
			t.Errorf("valid event %q refused: %v (data %s)", name, err, e.Data)
		}
	}
}

func TestStreamEventNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{EventNotification, EventRead, EventDeleted, "deploy", "Deploy.Started"} {
		if !ValidStreamEventName(name) {
			t.Errorf("ValidStreamEventName(%q) = false", name)
		}
	}
	// Herald writes these itself on each connection; from the store or the
	// bus they are forgeries.
	for _, name := range []string{EventConnected, EventUnreadCount, EventReset, EventLive, "notification.forged", "error", "a\nb", ""} {
		if ValidStreamEventName(name) {
			t.Errorf("ValidStreamEventName(%q) = true", name)
		}
	}
}

func TestUserIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"u1", "user@example.com", "herald:canary", "a b", "émile", "ユーザー", "🚀", "\uFFFD", strings.Repeat("u", MaxUserIDBytes)} {
		if !ValidUserID(id) || CheckUserID("userId", id) != nil {
			t.Errorf("ValidUserID(%q) = false", id)
		}
	}
	for _, tc := range []struct{ what, id string }{
		{"empty", ""},
		{"too long", strings.Repeat("u", MaxUserIDBytes+1)},
		{"invalid UTF-8", "u\xff"},
		{"NUL", "u\x00"},
		{"LF", "u\n"},
		{"DEL", "u\x7f"},
		{"C1 NEL", "u\u0085"},
		{"C1 CSI", "u\u009b"},
		{"line separator", "u\u2028"},
		{"paragraph separator", "u\u2029"},
		{"right-to-left override", "u\u202e"},
		{"left-to-right embedding", "u\u202a"},
		{"pop directional formatting", "u\u202c"},
		{"first strong isolate", "u\u2068"},
		{"pop directional isolate", "u\u2069"},
		{"right-to-left mark", "u\u200f"},
		{"arabic letter mark", "u\u061c"},
	} {
		if ValidUserID(tc.id) {
			t.Errorf("%s: ValidUserID(%q) = true", tc.what, tc.id)
		}
		err := CheckUserID("userIds[2]", tc.id)
		if ErrorCode(err) != CodeInvalid || !strings.HasPrefix(ErrorMessage(err), "userIds[2]:") {
			t.Errorf("%s: CheckUserID = %v, want invalid naming userIds[2]", tc.what, err)
		}
		p := Publication{UserID: tc.id, Type: "t", Title: "x"}
		if tc.id != "" { // an empty userId is no audience, reported as such
			if err := p.Validate(); ErrorCode(err) != CodeInvalid || !strings.HasPrefix(ErrorMessage(err), "userId:") {
				t.Errorf("%s: publish to %q: %v", tc.what, tc.id, err)
			}
		}
	}
}

func TestEventValidate(t *testing.T) {
	t.Parallel()
	for _, e := range []Event{
		{UserID: "u", Seq: 1, Name: EventNotification},
		{UserID: BroadcastStream, Seq: 2, Name: EventDeleted},
		{UserID: "herald:probe", Name: "doctor.probe"},
		{UserID: "u", Name: EventUnreadCount}, // transient: may come from another instance
	} {
		if err := e.Validate(); err != nil {
			t.Errorf("%+v: %v", e, err)
		}
	}
	for _, e := range []Event{
		{UserID: "u", Seq: 1, Name: "error"},
		{UserID: "u", Seq: 1, Name: "x\ndata: forged"},
		{UserID: "u", Seq: 3, Name: EventUnreadCount}, // never stored
		{UserID: "u", Name: EventConnected},
		{UserID: "u\u2028", Seq: 1, Name: EventNotification},
		{UserID: "u", Seq: -1, Name: EventNotification},
	} {
		if err := e.Validate(); ErrorCode(err) != CodeInvalid {
			t.Errorf("%+v: %v, want invalid", e, err)
		}
	}
}
