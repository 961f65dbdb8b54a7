package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// EventEndStreams names a control event that travels on the bus only: each
// instance's hub ends the local streams of the event's UserID, and writes
// nothing. Its data is EndStreamsData. The name is not a valid event name
// (it holds ':'), so no publisher, store or client can produce it.
const EventEndStreams = "herald:end-streams"

// Reasons carried by EventEndStreams.
const (
	EndStreamsErased   = "erased"   // the user was erased (DELETE /api/admin/users/{id})
	EndStreamsImported = "imported" // notifications were imported for the user
)

// EndStreamsData is the data of an EventEndStreams event.
type EndStreamsData struct {
	Reason string `json:"reason"`
}

// MaxConcurrentImports bounds the import requests a Service reads and
// stores at once (each holds up to MaxImportBytes); more wait their turn.
const MaxConcurrentImports = 2

// Retain tells s how long the store keeps notifications (HERALD_RETENTION),
// so that ImportLines refuses those that would be deleted at once; call it
// before use. Without it, any past createdAt is accepted.
func (s *Service) Retain(d time.Duration) *Service {
	s.retention = d
	return s
}

// ImportLines reads an import body (JSON Lines, see ReadImport) and imports
// it (Import): every line is checked before anything is stored. At most
// MaxConcurrentImports run at once; the others wait, within ctx, before
// reading their body.
func (s *Service) ImportLines(ctx context.Context, body io.Reader) (ImportResult, error) {
	select {
	case s.imports <- struct{}{}:
	case <-ctx.Done():
		return ImportResult{}, ctx.Err()
	}
	defer func() { <-s.imports }()
	ns, err := ReadImport(body, s.now(), s.retention)
	if err != nil {
		return ImportResult{}, err
	}
	return s.Import(ctx, ns)
}

// Import stores notifications brought from elsewhere with their own
// CreatedAt and ReadAt (SPEC 6), each once per ImportID, forever, in one
// transaction: all or nothing. Nothing is delivered live: the imported
// notifications get positions in their users' streams, after the current
// ones, but are not rung on the bus, so no open stream writes them as live
// events (which a client would toast). Instead the users' open streams, on
// every instance, are ended: their clients reconnect at once and replay
// the imported notifications as catch-up, before the live marker, so they
// appear in the inbox with the right unread count and are never toasted.
// ns must have passed ImportLine.Validate; ids are assigned here.
func (s *Service) Import(ctx context.Context, ns []ImportedNotification) (ImportResult, error) {
	if len(ns) == 0 {
		return ImportResult{}, Errorf(CodeInvalid, "body: no notification to import")
	}
	for i := range ns {
		if ns[i].UserID == BroadcastStream {
			return ImportResult{}, Errorf(CodeInvalid, "userId: required")
		}
		if ns[i].ID == "" {
			ns[i].ID = IDAt(ns[i].CreatedAt)
		}
	}
	// Not observed as publishes: an import is not live traffic, and one
	// request of 10,000 rows would skew the publish latency.
	out, err := s.store.Import(ctx, ImportInput{Notifications: ns})
	if err != nil {
		s.obs.Error("store")
		return ImportResult{}, fmt.Errorf("import: %w", err)
	}
	var users []string
	seen := make(map[string]bool)
	for _, e := range out.Events {
		if !seen[e.UserID] {
			seen[e.UserID] = true
			users = append(users, e.UserID)
		}
	}
	s.endStreams(ctx, users, EndStreamsImported)
	return ImportResult{Imported: out.Imported, Skipped: out.Skipped}, nil
}

// EraseUser erases everything the store holds about userID (see
// Store.EraseUser) and ends the user's open streams on every instance.
// Broadcast notifications stay. Erasing a user again, or one never seen,
// succeeds and does nothing more.
func (s *Service) EraseUser(ctx context.Context, userID string) error {
	if !ValidUserID(userID) {
		return Errorf(CodeInvalid, "id: must be 1 to %d bytes without control characters", MaxUserIDBytes)
	}
	if err := s.store.EraseUser(ctx, userID); err != nil {
		s.obs.Error("store")
		return fmt.Errorf("erase user: %w", err)
	}
	s.endStreams(ctx, []string{userID}, EndStreamsErased)
	return nil
}

// endStreams asks every instance to end the open streams of users. If the
// bus fails, a stream left open ends anyway at its next event: the store
// moved its position on, so the stream sees a gap it cannot fill (erase) or
// fills it (import; the events then count as live, as for any gap).
func (s *Service) endStreams(ctx context.Context, users []string, reason string) {
	if len(users) == 0 {
		return
	}
	data, err := json.Marshal(EndStreamsData{Reason: reason})
	if err != nil {
		s.log.Error("encode end-streams event", "err", err)
		return
	}
	now := s.now().UTC()
	evs := make([]Event, len(users))
	for i, u := range users {
		evs[i] = Event{UserID: u, Name: EventEndStreams, Data: data, CreatedAt: now}
	}
	s.ring(ctx, evs)
}
