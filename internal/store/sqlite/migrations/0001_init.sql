-- Herald schema, version 1. Times are INTEGER unix microseconds (UTC).

-- meta holds facts about this database, such as its epoch.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- streams holds the head of each durable event stream: a user id, or '' for
-- the broadcast stream. last_seq is the position of the last event appended;
-- pruned_seq the highest position deleted by retention.
CREATE TABLE streams (
    stream     TEXT PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    pruned_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE events (
    stream     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    data       BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- retention pruning
CREATE INDEX events_created_at ON events (created_at);

-- user_id is '' for a broadcast notification, whose read and delete state is
-- per user in broadcast_state (read_at stays NULL here).
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    type         TEXT NOT NULL,
    title        TEXT NOT NULL,
    message      TEXT NOT NULL,
    data         BLOB,
    link         TEXT NOT NULL,
    collapse_key TEXT,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER
);

-- an inbox, newest first (greatest id first), and its unread subset. The
-- partial index carries read_at (always NULL in it) so that the unread count
-- and unread pages are answered from the index alone; broadcast rows are all
-- in it, their read state being per user.
CREATE INDEX notifications_inbox ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, id, read_at) WHERE read_at IS NULL;
-- collapse look-up: only unread notifications are ever collapsed
CREATE INDEX notifications_collapse ON notifications (user_id, collapse_key)
    WHERE collapse_key IS NOT NULL AND read_at IS NULL;
-- retention pruning
CREATE INDEX notifications_created_at ON notifications (created_at);

CREATE TABLE broadcast_state (
    user_id         TEXT NOT NULL,
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    read_at         INTEGER,
    deleted         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, notification_id)
);

-- cascade and pruning by notification
CREATE INDEX broadcast_state_notification ON broadcast_state (notification_id);

CREATE TABLE idempotency (
    key        TEXT PRIMARY KEY,
    receipts   BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX idempotency_created_at ON idempotency (created_at);

CREATE TABLE tickets (
    hash         TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    token_expiry INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);

CREATE INDEX tickets_expires_at ON tickets (expires_at);
