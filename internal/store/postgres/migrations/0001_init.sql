-- Herald schema for PostgreSQL, version 1.
--
-- Identifiers (user ids, notification ids, stream names) are compared byte
-- by byte (COLLATE "C"): notification ids sort newest first as strings, and
-- the lock order of stream rows (herald_lock_streams) must not depend on
-- the database's locale. Data is kept as text holding JSON, not jsonb:
-- Herald never queries inside it, and jsonb would refuse "\u0000", which
-- SQLite stores.

-- meta holds facts about this database, such as its epoch.
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- streams holds the head of each durable event stream: a user id, or '' for
-- the broadcast stream. last_seq is the position of the last event appended,
-- pruned_seq the highest position deleted by retention. Every transaction
-- that appends to a stream holds this row's lock until it commits: that is
-- what makes positions gap-free and commit-ordered (see doc.go). A low
-- fillfactor leaves room on each page for HOT updates of last_seq.
CREATE TABLE streams (
    stream     text COLLATE "C" PRIMARY KEY,
    last_seq   bigint NOT NULL,
    pruned_seq bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 50);

-- events is every durable event, read by (stream, seq > cursor).
CREATE TABLE events (
    stream     text COLLATE "C" NOT NULL,
    seq        bigint NOT NULL,
    name       text NOT NULL,
    data       text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (stream, seq)
);

-- retention pruning: rows arrive in time order, so a BRIN index is a few
-- pages and costs nearly nothing per insert.
CREATE INDEX events_created_at ON events USING brin (created_at);

-- user_id is '' for a broadcast notification, whose read and delete state
-- is per user in broadcast_state (read_at stays NULL here). The primary key
-- (user_id, id) is the inbox, walked backwards for "newest first"; a
-- notification is always looked up with its owner (the user, or ''), so no
-- separate index on id is needed.
CREATE TABLE notifications (
    user_id      text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    type         text NOT NULL,
    title        text NOT NULL,
    message      text NOT NULL,
    data         text,
    link         text NOT NULL,
    collapse_key text,
    created_at   timestamptz NOT NULL,
    read_at      timestamptz,
    PRIMARY KEY (user_id, id)
);

-- the unread subset of an inbox: unread pages and the unread count are
-- answered from it (index-only for the count).
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;
-- collapse look-up: only unread notifications with a key are ever collapsed.
CREATE INDEX notifications_collapse ON notifications (user_id, collapse_key)
    WHERE collapse_key IS NOT NULL AND read_at IS NULL;
-- retention pruning
CREATE INDEX notifications_created_at ON notifications USING brin (created_at);

-- broadcast_state is one user's read/delete state of one broadcast.
--
-- owner is always '' (the owner of every broadcast): it lets the foreign key
-- reach notifications' primary key, so that pruning a broadcast can never
-- leave state behind.
CREATE TABLE broadcast_state (
    user_id         text COLLATE "C" NOT NULL,
    notification_id text COLLATE "C" NOT NULL,
    owner           text COLLATE "C" NOT NULL DEFAULT '' CHECK (owner = ''),
    read_at         timestamptz,
    deleted         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, notification_id),
    FOREIGN KEY (owner, notification_id) REFERENCES notifications (user_id, id) ON DELETE CASCADE
);

-- pruning the state of a pruned broadcast
CREATE INDEX broadcast_state_notification ON broadcast_state (notification_id);

CREATE TABLE idempotency (
    key        text PRIMARY KEY,
    receipts   text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX idempotency_created_at ON idempotency (created_at);

CREATE TABLE tickets (
    hash         text PRIMARY KEY,
    user_id      text NOT NULL,
    token_expiry timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

CREATE INDEX tickets_expires_at ON tickets (expires_at);
