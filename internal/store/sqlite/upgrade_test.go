package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/store/storetest"
)

// legacyUnreadSQL is how version 1 of the schema counted unread (the
// release before the counts moved into the stream rows).
const legacyUnreadSQL = `SELECT
	(SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL) +
	(SELECT count(*) FROM notifications n WHERE n.user_id = '' AND NOT EXISTS (
		SELECT 1 FROM broadcast_state s WHERE s.user_id = ?1 AND s.notification_id = n.id
		AND (s.read_at IS NOT NULL OR s.deleted <> 0)))`

// TestUpgradeFromSchemaV1 writes a database as version 1 of the schema held
// it (rows as the earlier release wrote them), then opens it with this
// release: cursors stay valid and counts stay right.
func TestUpgradeFromSchemaV1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "herald.db")
	db, err := openDB(path, Options{}.withDefaults(), false)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrateUpTo(ctx, db, time.Now, 1); err != nil {
		t.Fatalf("schema v1: %v", err)
	}
	at := time.Now().Add(-time.Hour).UnixMicro()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// u1: two unread, one read, and one deleted (gone); u2: read one
	// broadcast and deleted another; three broadcasts; u3 only ever
	// received broadcasts (no stream row of its own).
	note := func(id, user string, readAt any) {
		exec(`INSERT INTO notifications (id, user_id, type, title, message, data, link, collapse_key, created_at, read_at)
			VALUES (?, ?, 't', 'title', '', NULL, '', NULL, ?, ?)`, id, user, at, readAt)
	}
	note("n1", "u1", nil)
	note("n2", "u1", nil)
	note("n3", "u1", at)
	note("b1", "", nil)
	note("b2", "", nil)
	note("b3", "", nil)
	exec(`INSERT INTO broadcast_state (user_id, notification_id, read_at, deleted) VALUES ('u2', 'b1', ?, 0), ('u2', 'b2', NULL, 1)`, at)
	for stream, last := range map[string]int64{"u1": 6, "u2": 2, "": 3} {
		for seq := int64(1); seq <= last; seq++ {
			exec(`INSERT INTO events (stream, seq, name, data, created_at) VALUES (?, ?, 'notification', '{}', ?)`, stream, seq, at)
		}
		exec(`INSERT INTO streams (stream, last_seq, pruned_seq) VALUES (?, ?, 0)`, stream, last)
	}
	var epoch string
	if err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'epoch'").Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	want := storetest.Legacy{Epoch: epoch, Users: map[string]storetest.LegacyUser{
		"u1": {Head: notify.Position{User: 6, Broadcast: 3}},
		"u2": {Head: notify.Position{User: 2, Broadcast: 3}},
		"u3": {Head: notify.Position{User: 0, Broadcast: 3}},
	}}
	for user, u := range want.Users {
		if err := db.QueryRowContext(ctx, legacyUnreadSQL, user).Scan(&u.Unread); err != nil {
			t.Fatal(err)
		}
		want.Users[user] = u
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if want.Users["u1"].Unread != 5 || want.Users["u2"].Unread != 1 {
		t.Fatalf("legacy fixture: unread %+v, want u1 5, u2 1", want.Users)
	}

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("open the v1 database: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	storetest.CheckUpgraded(t, s, want)
}
