-- The inbox becomes the table itself: notifications clustered by (user_id,
-- id), so that a user's inbox, newest first, is one range of one B-tree,
-- and the two indexes that held it (notifications_inbox, and
-- notifications_unread, whose count the stream rows now keep) go. Storing a
-- notification then changes one page of the user's (the table's) instead
-- of three (the table's last page, the inbox index's and the unread
-- index's): fewer pages written to the WAL per notification and fewer to
-- checkpoint. Unread pages of an inbox filter the user's range.
--
-- The rebuild runs with foreign keys off (migrate turns them off around
-- every migration and checks them before commit): dropping the old table
-- must not cascade to broadcast_state.
CREATE TABLE notifications_by_user (
    user_id      TEXT NOT NULL,
    id           TEXT NOT NULL,
    type         TEXT NOT NULL,
    title        TEXT NOT NULL,
    message      TEXT NOT NULL,
    data         BLOB,
    link         TEXT NOT NULL,
    collapse_key TEXT,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER,
    PRIMARY KEY (user_id, id)
) WITHOUT ROWID;

INSERT INTO notifications_by_user
    (user_id, id, type, title, message, data, link, collapse_key, created_at, read_at)
SELECT user_id, id, type, title, message, data, link, collapse_key, created_at, read_at FROM notifications;

DROP TABLE notifications;
ALTER TABLE notifications_by_user RENAME TO notifications;

-- ids are unique across users (broadcast_state's foreign key needs it);
-- they grow with time, so this index is appended to.
CREATE UNIQUE INDEX notifications_id ON notifications (id);
-- collapse look-up: only unread notifications are ever collapsed
CREATE INDEX notifications_collapse ON notifications (user_id, collapse_key)
    WHERE collapse_key IS NOT NULL AND read_at IS NULL;
-- retention pruning
CREATE INDEX notifications_created_at ON notifications (created_at);
