-- Unread counts kept in the stream rows, in the same transaction as the
-- events that change them, so that neither a notification nor a broadcast
-- costs a count query per user (notify.UnreadShares).
--
-- For a user's stream, unread is the number of the user's own unread
-- notifications and seen the number of broadcasts the user has read or
-- deleted (their broadcast_state rows); for the broadcast stream ('') unread
-- is the number of broadcasts retained and seen stays 0. A user's unread
-- count is (unread - seen) of the user's row plus unread of the '' row.
ALTER TABLE streams ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN seen INTEGER NOT NULL DEFAULT 0;

-- Every owner of a notification or a broadcast state has a stream row (each
-- change appends an event), but make sure before counting into it.
INSERT OR IGNORE INTO streams (stream, last_seq) SELECT DISTINCT user_id, 0 FROM notifications;
INSERT OR IGNORE INTO streams (stream, last_seq) SELECT DISTINCT user_id, 0 FROM broadcast_state;

UPDATE streams SET unread = (
    SELECT count(*) FROM notifications n WHERE n.user_id = streams.stream AND n.read_at IS NULL)
WHERE stream <> '';
UPDATE streams SET unread = (SELECT count(*) FROM notifications n WHERE n.user_id = '')
WHERE stream = '';
UPDATE streams SET seen = (
    SELECT count(*) FROM broadcast_state s
    WHERE s.user_id = streams.stream AND (s.read_at IS NOT NULL OR s.deleted <> 0))
WHERE stream <> '';
