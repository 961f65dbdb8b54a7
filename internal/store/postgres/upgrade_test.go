package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/herald-notify/herald/internal/notify"
	"github.com/herald-notify/herald/internal/store/storetest"
	"github.com/herald-notify/herald/internal/testenv"
)

// legacyUnreadSQL is how schema version 2 (the release before the counts
// moved into the stream rows) counted unread.
const legacyUnreadSQL = `SELECT
	(SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) +
	(SELECT count(*) FROM notifications n WHERE n.user_id = '' AND NOT EXISTS (
		SELECT 1 FROM broadcast_state s WHERE s.user_id = $1 AND s.notification_id = n.id
		AND (s.read_at IS NOT NULL OR s.deleted)))`

// TestUpgradeFromSchemaV2 writes a database through the server-side
// functions of schema version 2, as the earlier release did, then opens it
// with this release: cursors stay valid and counts stay right.
func TestUpgradeFromSchemaV2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Postgres(t)
	pool, err := newPool(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateUpTo(ctx, pool, time.Now, 2); err != nil {
		t.Fatalf("schema v2: %v", err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	at := time.Now().Add(-time.Hour).UTC()
	publish := func(id, user string) {
		exec(`SELECT * FROM herald_publish(ARRAY[$1::text], ARRAY[$2::text], ARRAY[NULL::text], ARRAY[$3::timestamptz],
			ARRAY['{}'::text], ARRAY['t'], ARRAY['title'], ARRAY[''], ARRAY[NULL::text], ARRAY[''],
			NULL, NULL, $3, $3)`, id, user, at)
	}
	// u1: two unread, one read, one deleted; u2: read one broadcast and
	// deleted another; three broadcasts; u3 only ever received broadcasts.
	for _, n := range [][2]string{{"n1", "u1"}, {"n2", "u1"}, {"n3", "u1"}, {"n4", "u1"}, {"b1", ""}, {"b2", ""}, {"b3", ""}} {
		publish(n[0], n[1])
	}
	exec(`SELECT * FROM herald_inbox_change('u1', 'n3', false, $1)`, at)
	exec(`SELECT * FROM herald_inbox_change('u1', 'n4', true, $1)`, at)
	exec(`SELECT * FROM herald_inbox_change('u2', 'b1', false, $1)`, at)
	exec(`SELECT * FROM herald_inbox_change('u2', 'b2', true, $1)`, at)
	var epoch string
	if err := pool.QueryRow(ctx, "SELECT value FROM meta WHERE key = 'epoch'").Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	want := storetest.Legacy{Epoch: epoch, Users: map[string]storetest.LegacyUser{
		"u1": {Head: notify.Position{User: 6, Broadcast: 3}},
		"u2": {Head: notify.Position{User: 2, Broadcast: 3}},
		"u3": {Head: notify.Position{User: 0, Broadcast: 3}},
	}}
	for user, u := range want.Users {
		if err := pool.QueryRow(ctx, legacyUnreadSQL, user).Scan(&u.Unread); err != nil {
			t.Fatal(err)
		}
		want.Users[user] = u
	}
	if want.Users["u1"].Unread != 5 || want.Users["u2"].Unread != 1 {
		t.Fatalf("legacy fixture: unread %+v, want u1 5, u2 1", want.Users)
	}
	s := openURL(t, url, Options{})
	storetest.CheckUpgraded(t, s, want)

	// An instance of the earlier release, still running during a rolling
	// upgrade, calls the functions by their old signatures: the counts
	// must follow its writes too.
	publish("late1", "u1")
	publish("late2", "")
	exec(`SELECT * FROM herald_inbox_change('u1', 'n1', false, $1)`, at)
	exec(`SELECT * FROM herald_inbox_change('u2', 'b3', true, $1)`, at)
	exec(`SELECT * FROM herald_mark_all_read('u3', $1)`, at)
	exec(`SELECT herald_append_events(ARRAY['u2'], ARRAY['sys'], ARRAY['{}'], ARRAY[$1::timestamptz])`, at)
	for user := range want.Users {
		var legacy int
		if err := pool.QueryRow(ctx, legacyUnreadSQL, user).Scan(&legacy); err != nil {
			t.Fatal(err)
		}
		got, err := s.UnreadCount(ctx, user)
		if err != nil || got != legacy {
			t.Fatalf("%s: unread after the earlier release's writes = %d, %v; counted from the rows %d", user, got, err, legacy)
		}
	}
	pool.Close()
}
