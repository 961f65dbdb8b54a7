-- Imports (SPEC 6, POST /api/admin/import) and erasing a user (DELETE
-- /api/admin/users/{id}).

-- imports is every importId ever imported, so that importing it again
-- stores nothing. Kept for good, unlike the 24-hour publish idempotency
-- keys; erasing a user deletes theirs.
CREATE TABLE imports (
    import_id   text PRIMARY KEY,
    user_id     text COLLATE "C" NOT NULL,
    imported_at timestamptz NOT NULL
);

-- erasing a user
CREATE INDEX imports_user ON imports (user_id);

-- herald_import stores one import request (notify.Store.Import): the
-- notifications p_ids[i] for p_users[i] whose p_import_ids[i] is new, with
-- their read state, and a notification event for each at the next
-- positions of its user's stream, in the order given. The caller holds the
-- locks of every user's stream row (herald_lock_streams), so the rows exist
-- and the positions read here hold until commit. It returns, per stored
-- notification, its index in the arrays (from 1), its event's position and
-- the stream's unread share after it; the rest were imported before.
CREATE FUNCTION herald_import(
    p_import_ids text[], p_users text[], p_ids text[], p_created timestamptz[], p_read timestamptz[],
    p_type text[], p_title text[], p_message text[], p_data text[], p_link text[], p_collapse text[],
    p_event_data text[], p_now timestamptz)
RETURNS TABLE (o_ord bigint, o_seq bigint, o_share bigint)
LANGUAGE sql AS $$
    WITH input AS (
        SELECT * FROM unnest(p_import_ids, p_users, p_ids, p_created, p_read, p_type, p_title, p_message,
                             p_data, p_link, p_collapse, p_event_data)
            WITH ORDINALITY AS t(import_id, user_id, id, created_at, read_at, type, title, message,
                                 data, link, collapse_key, event_data, ord)
    ),
    claimed AS (
        INSERT INTO imports (import_id, user_id, imported_at)
        SELECT i.import_id, i.user_id, p_now FROM input i ORDER BY i.ord
        ON CONFLICT (import_id) DO NOTHING
        RETURNING import_id
    ),
    fresh AS (
        SELECT i.*,
               row_number() OVER w AS rn,
               count(*) FILTER (WHERE i.read_at IS NULL) OVER w AS unread_so_far
        FROM input i JOIN claimed c ON c.import_id = i.import_id
        WINDOW w AS (PARTITION BY i.user_id ORDER BY i.ord)
    ),
    per_user AS (
        SELECT f.user_id, count(*) AS n, count(*) FILTER (WHERE f.read_at IS NULL) AS unread
        FROM fresh f GROUP BY f.user_id
    ),
    advanced AS (
        UPDATE streams s SET last_seq = s.last_seq + p.n, unread = s.unread + p.unread
        FROM per_user p WHERE s.stream = p.user_id
        RETURNING s.stream, s.last_seq - p.n AS base_seq, s.unread - s.seen - p.unread AS base_share
    ),
    -- Data-modifying sub-statements run to completion whether or not
    -- anything reads them.
    stored AS (
        INSERT INTO notifications (user_id, id, type, title, message, data, link, collapse_key, created_at, read_at)
        SELECT f.user_id, f.id, f.type, f.title, f.message, f.data, f.link, f.collapse_key, f.created_at, f.read_at
        FROM fresh f
    ),
    evs AS (
        INSERT INTO events (stream, seq, name, data, created_at)
        SELECT f.user_id, a.base_seq + f.rn, 'notification', f.event_data, p_now
        FROM fresh f JOIN advanced a ON a.stream = f.user_id
    )
    SELECT f.ord, a.base_seq + f.rn, a.base_share + f.unread_so_far
    FROM fresh f JOIN advanced a ON a.stream = f.user_id
    ORDER BY f.ord
$$;

-- herald_erase_user deletes everything stored about p_user and leaves its
-- stream row, if it ever held an event, one position past its last and
-- pruned up to there with no unread count, so that every cursor issued
-- before is refused (notify.Store.EraseUser). The caller holds the stream
-- row's lock (herald_lock_streams, which creates a missing row: a row that
-- never held an event is deleted again).
CREATE FUNCTION herald_erase_user(p_user text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_n       bigint;
    v_deleted bigint := 0;
BEGIN
    DELETE FROM notifications WHERE user_id = p_user;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_deleted := v_deleted + v_n;
    DELETE FROM broadcast_state WHERE user_id = p_user;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_deleted := v_deleted + v_n;
    DELETE FROM events WHERE stream = p_user;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_deleted := v_deleted + v_n;
    DELETE FROM tickets WHERE user_id = p_user;
    DELETE FROM imports WHERE user_id = p_user;
    UPDATE streams SET last_seq = last_seq + 1, pruned_seq = last_seq + 1, unread = 0, seen = 0
    WHERE stream = p_user AND last_seq > 0 AND (v_deleted > 0 OR last_seq > pruned_seq);
    DELETE FROM streams WHERE stream = p_user AND last_seq = 0;
END $$;
