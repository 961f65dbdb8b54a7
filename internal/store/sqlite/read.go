package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// readQueries are the statements prepared once on the read pool
// (database/sql re-prepares them lazily on each pooled connection).
type readQueries struct {
	list   [4]*sql.Stmt // by listVariant
	head   *sql.Stmt
	events *sql.Stmt
}

// listVariant indexes readQueries.list.
func listVariant(before, unreadOnly bool) int {
	v := 0
	if before {
		v |= 1
	}
	if unreadOnly {
		v |= 2
	}
	return v
}

// listSQL returns the inbox query: own notifications merged with the
// broadcasts the user has not deleted, greatest id first. Parameters: 1 user
// id, 2 the Before cursor (ignored unless before), 3 the row limit. Each arm
// walks its owner's range of the table (clustered by user_id, id)
// backwards, and the compound ORDER BY is a merge of the two.
func listSQL(before, unreadOnly bool) string {
	ownCond, bcCond := "", ""
	if before {
		ownCond += " AND id < ?2"
		bcCond += " AND n.id < ?2"
	}
	if unreadOnly {
		ownCond += " AND read_at IS NULL"
		bcCond += " AND s.read_at IS NULL"
	}
	return fmt.Sprintf(`SELECT id, user_id, type, title, message, data, link, created_at, read_at
		FROM notifications WHERE user_id = ?1%s
		UNION ALL
		SELECT n.id, n.user_id, n.type, n.title, n.message, n.data, n.link, n.created_at, s.read_at
		FROM notifications n
		LEFT JOIN broadcast_state s ON s.user_id = ?1 AND s.notification_id = n.id
		WHERE n.user_id = ''%s AND (s.deleted IS NULL OR s.deleted = 0)
		ORDER BY id DESC LIMIT ?3`, ownCond, bcCond)
}

// headSQL returns the user's stream row and the broadcast stream row (either
// may be missing: an empty stream), with each one's unread share.
const headSQL = `SELECT stream, last_seq, pruned_seq, unread - seen FROM streams WHERE stream IN (?1, '')`

const eventsSQL = `SELECT seq, name, data, created_at FROM events
	WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?`

func (q *readQueries) prepare(ctx context.Context, db *sql.DB) error {
	var err error
	prep := func(query string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, query)
		return st
	}
	for v := range q.list {
		q.list[v] = prep(listSQL(v&1 != 0, v&2 != 0))
	}
	q.head = prep(headSQL)
	q.events = prep(eventsSQL)
	if err != nil {
		q.close()
		return fmt.Errorf("prepare read queries: %w", err)
	}
	return nil
}

// close closes the prepared statements; their errors are of no use to a
// caller that is closing the pool next.
func (q *readQueries) close() {
	for _, st := range append(q.list[:], q.head, q.events) {
		if st != nil {
			_ = st.Close()
		}
	}
}
