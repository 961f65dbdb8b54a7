-- Unread counts kept in the stream rows, in the same transaction as the
-- events that change them, so that neither a notification nor a broadcast
-- costs a count query per user (notify.UnreadShares).
--
-- For a user's stream, unread is the number of the user's own unread
-- notifications and seen the number of broadcasts the user has read or
-- deleted (their broadcast_state rows); for the broadcast stream ('') unread
-- is the number of broadcasts retained and seen stays 0. A user's unread
-- count is (unread - seen) of the user's row plus unread of the '' row.
--
-- The functions of 0002 keep their signatures and now maintain the counts
-- too, so that instances of the previous release, still running during a
-- rolling upgrade, keep them right; this release calls the *_counted
-- functions, which also return each event's share.

ALTER TABLE streams ADD COLUMN unread bigint NOT NULL DEFAULT 0,
                    ADD COLUMN seen bigint NOT NULL DEFAULT 0;

-- Writers lock stream rows; take them all (in their order) before counting.
SELECT herald_lock_streams(array_agg(DISTINCT u)) FROM (
    SELECT user_id AS u FROM notifications UNION SELECT user_id FROM broadcast_state) x;

UPDATE streams s SET unread = c.n
FROM (SELECT user_id, count(*) AS n FROM notifications
      WHERE user_id <> '' AND read_at IS NULL GROUP BY user_id) c
WHERE s.stream = c.user_id;
UPDATE streams SET unread = (SELECT count(*) FROM notifications WHERE user_id = '') WHERE stream = '';
UPDATE streams s SET seen = c.n
FROM (SELECT user_id, count(*) AS n FROM broadcast_state
      WHERE read_at IS NOT NULL OR deleted GROUP BY user_id) c
WHERE s.stream = c.user_id;

-- herald_append_counted stores one event at the next position of its stream,
-- adds p_unread and p_seen to the stream's counts, and returns the position
-- and the stream's share (unread - seen) after the event.
CREATE FUNCTION herald_append_counted(p_stream text, p_name text, p_data text, p_at timestamptz,
                                      p_unread bigint, p_seen bigint,
                                      OUT o_seq bigint, OUT o_share bigint)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO streams AS s (stream, last_seq, unread, seen) VALUES (p_stream, 1, p_unread, p_seen)
    ON CONFLICT (stream) DO UPDATE SET last_seq = s.last_seq + 1,
        unread = s.unread + p_unread, seen = s.seen + p_seen
    RETURNING s.last_seq, s.unread - s.seen INTO o_seq, o_share;
    INSERT INTO events (stream, seq, name, data, created_at) VALUES (p_stream, o_seq, p_name, p_data, p_at);
END $$;

CREATE OR REPLACE FUNCTION herald_append(p_stream text, p_name text, p_data text, p_at timestamptz) RETURNS bigint
LANGUAGE sql AS $$
    SELECT o_seq FROM herald_append_counted(p_stream, p_name, p_data, p_at, 0, 0)
$$;

-- herald_publish_counted is herald_publish of 0002 with each event's share:
-- a notification is one more unread of its stream; a collapse removes
-- unread notifications only.
CREATE FUNCTION herald_publish_counted(
    p_ids text[], p_users text[], p_collapse text[], p_created timestamptz[], p_event_data text[],
    p_type text[], p_title text[], p_message text[], p_data text[], p_link text[],
    p_idem_key text, p_receipts text, p_now timestamptz, p_idem_since timestamptz)
RETURNS TABLE (o_stream text, o_seq bigint, o_name text, o_data text, o_created_at timestamptz, o_share bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_fresh boolean;
    v_ids   text[];
BEGIN
    IF p_idem_key IS NOT NULL THEN
        -- Claiming the key first makes a concurrent publish with the same
        -- key (any instance) wait for this one and then see it.
        INSERT INTO idempotency AS k (key, receipts, created_at) VALUES (p_idem_key, p_receipts, p_now)
        ON CONFLICT (key) DO UPDATE SET receipts = excluded.receipts, created_at = excluded.created_at
            WHERE k.created_at <= p_idem_since
        RETURNING true INTO v_fresh;
        IF v_fresh IS NULL THEN
            o_name := 'duplicate';
            SELECT k.receipts INTO o_data FROM idempotency k WHERE k.key = p_idem_key;
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    FOR i IN 1 .. cardinality(p_ids) LOOP
        IF p_collapse[i] IS NOT NULL AND p_users[i] <> '' THEN
            WITH d AS (
                DELETE FROM notifications n
                WHERE n.user_id = p_users[i] AND n.collapse_key = p_collapse[i] AND n.read_at IS NULL
                RETURNING n.id)
            SELECT array_agg(d.id ORDER BY d.id) INTO v_ids FROM d;
            IF v_ids IS NOT NULL THEN
                o_stream := p_users[i];
                o_name := 'notification.deleted';
                o_data := '{"ids":' || array_to_json(v_ids)::text || '}';
                o_created_at := p_now;
                SELECT a.o_seq, a.o_share INTO o_seq, o_share
                FROM herald_append_counted(o_stream, o_name, o_data, o_created_at, -cardinality(v_ids), 0) a;
                RETURN NEXT;
            END IF;
        END IF;
        INSERT INTO notifications (user_id, id, type, title, message, data, link, collapse_key, created_at)
        VALUES (p_users[i], p_ids[i], p_type[i], p_title[i], p_message[i], p_data[i], p_link[i],
                CASE WHEN p_users[i] <> '' THEN p_collapse[i] END, p_created[i]);
        o_stream := p_users[i];
        o_name := 'notification';
        o_data := p_event_data[i];
        o_created_at := p_created[i];
        SELECT a.o_seq, a.o_share INTO o_seq, o_share
        FROM herald_append_counted(o_stream, o_name, o_data, o_created_at, 1, 0) a;
        RETURN NEXT;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION herald_publish(
    p_ids text[], p_users text[], p_collapse text[], p_created timestamptz[], p_event_data text[],
    p_type text[], p_title text[], p_message text[], p_data text[], p_link text[],
    p_idem_key text, p_receipts text, p_now timestamptz, p_idem_since timestamptz)
RETURNS TABLE (o_stream text, o_seq bigint, o_name text, o_data text, o_created_at timestamptz)
LANGUAGE sql AS $$
    SELECT o_stream, o_seq, o_name, o_data, o_created_at FROM herald_publish_counted(
        p_ids, p_users, p_collapse, p_created, p_event_data, p_type, p_title, p_message, p_data, p_link,
        p_idem_key, p_receipts, p_now, p_idem_since)
$$;

-- herald_append_counted_events stores system events in order and returns
-- their positions and shares in the same order.
CREATE FUNCTION herald_append_counted_events(p_streams text[], p_names text[], p_datas text[], p_ats timestamptz[])
RETURNS TABLE (o_seq bigint, o_share bigint)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. cardinality(p_streams) LOOP
        SELECT a.o_seq, a.o_share INTO o_seq, o_share
        FROM herald_append_counted(p_streams[i], p_names[i], p_datas[i], p_ats[i], 0, 0) a;
        RETURN NEXT;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION herald_append_events(p_streams text[], p_names text[], p_datas text[], p_ats timestamptz[])
RETURNS SETOF bigint
LANGUAGE sql AS $$
    SELECT o_seq FROM herald_append_counted_events(p_streams, p_names, p_datas, p_ats)
$$;

-- herald_inbox_change_counted is herald_inbox_change of 0002 with the
-- event's share: reading or deleting an unread notification lowers the
-- count (an own one leaves unread; a broadcast gains its first state row).
CREATE FUNCTION herald_inbox_change_counted(p_user text, p_id text, p_delete boolean, p_now timestamptz)
RETURNS TABLE (o_status text, o_seq bigint, o_data text, o_share bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_owner   text;
    v_read    timestamptz;
    v_bc_read timestamptz;
    v_bc_del  boolean;
    v_unread  boolean;
BEGIN
    -- The user's stream lock serialises every change to this inbox, so the
    -- state read here holds until commit.
    PERFORM herald_lock_streams(ARRAY[p_user]);
    SELECT n.user_id, n.read_at INTO v_owner, v_read
    FROM notifications n WHERE n.user_id IN (p_user, '') AND n.id = p_id;
    IF v_owner = '' THEN
        SELECT s.read_at, s.deleted INTO v_bc_read, v_bc_del
        FROM broadcast_state s WHERE s.user_id = p_user AND s.notification_id = p_id;
    END IF;
    IF v_owner IS NULL OR (v_owner = '' AND coalesce(v_bc_del, false)) THEN
        o_status := 'not_found';
        RETURN NEXT;
        RETURN;
    END IF;
    v_unread := (v_owner = '' AND v_bc_read IS NULL) OR (v_owner <> '' AND v_read IS NULL);
    IF p_delete THEN
        IF v_owner = '' THEN
            INSERT INTO broadcast_state (user_id, notification_id, deleted) VALUES (p_user, p_id, true)
            ON CONFLICT (user_id, notification_id) DO UPDATE SET deleted = true;
        ELSE
            DELETE FROM notifications WHERE user_id = p_user AND id = p_id;
        END IF;
    ELSE
        IF NOT v_unread THEN
            o_status := 'unchanged';
            RETURN NEXT;
            RETURN;
        END IF;
        IF v_owner = '' THEN
            INSERT INTO broadcast_state (user_id, notification_id, read_at) VALUES (p_user, p_id, p_now)
            ON CONFLICT (user_id, notification_id) DO UPDATE SET read_at = excluded.read_at;
        ELSE
            UPDATE notifications SET read_at = p_now WHERE user_id = p_user AND id = p_id;
        END IF;
    END IF;
    o_status := 'ok';
    o_data := '{"ids":[' || to_json(p_id)::text || ']}';
    SELECT a.o_seq, a.o_share INTO o_seq, o_share
    FROM herald_append_counted(p_user, CASE WHEN p_delete THEN 'notification.deleted' ELSE 'notification.read' END,
                               o_data, p_now,
                               CASE WHEN v_unread AND v_owner <> '' THEN -1 ELSE 0 END,
                               CASE WHEN v_unread AND v_owner = '' THEN 1 ELSE 0 END) a;
    RETURN NEXT;
END $$;

CREATE OR REPLACE FUNCTION herald_inbox_change(p_user text, p_id text, p_delete boolean, p_now timestamptz)
RETURNS TABLE (o_status text, o_seq bigint, o_data text)
LANGUAGE sql AS $$
    SELECT o_status, o_seq, o_data FROM herald_inbox_change_counted(p_user, p_id, p_delete, p_now)
$$;

-- herald_mark_all_read_counted is herald_mark_all_read of 0002 with the
-- event's share.
CREATE FUNCTION herald_mark_all_read_counted(p_user text, p_now timestamptz)
RETURNS TABLE (o_updated bigint, o_seq bigint, o_share bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_own bigint;
    v_bc  bigint;
BEGIN
    PERFORM herald_lock_streams(ARRAY[p_user]);
    UPDATE notifications SET read_at = p_now WHERE user_id = p_user AND read_at IS NULL;
    GET DIAGNOSTICS v_own = ROW_COUNT;
    INSERT INTO broadcast_state (user_id, notification_id, read_at)
    SELECT p_user, n.id, p_now FROM notifications n WHERE n.user_id = ''
    ON CONFLICT (user_id, notification_id) DO UPDATE SET read_at = excluded.read_at
        WHERE broadcast_state.read_at IS NULL AND NOT broadcast_state.deleted;
    GET DIAGNOSTICS v_bc = ROW_COUNT;
    o_updated := v_own + v_bc;
    IF o_updated > 0 THEN
        SELECT a.o_seq, a.o_share INTO o_seq, o_share
        FROM herald_append_counted(p_user, 'notification.read', '{"all":true}', p_now, -v_own, v_bc) a;
    END IF;
    RETURN NEXT;
END $$;

CREATE OR REPLACE FUNCTION herald_mark_all_read(p_user text, p_now timestamptz)
RETURNS TABLE (o_updated bigint, o_seq bigint)
LANGUAGE sql AS $$
    SELECT o_updated, o_seq FROM herald_mark_all_read_counted(p_user, p_now)
$$;

-- herald_prune_notifications deletes up to p_limit notifications created
-- before p_before (with the broadcast state of deleted broadcasts) and
-- lowers the counts they were part of; it returns the rows deleted. The
-- stream rows are locked first, in the writers' order, so that pruning
-- never waits in a cycle with a writer.
CREATE FUNCTION herald_prune_notifications(p_before timestamptz, p_limit int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_users   text[];
    v_ids     text[];
    v_streams text[];
    v_n       bigint;
    v_m       bigint;
BEGIN
    SELECT array_agg(n.user_id), array_agg(n.id) INTO v_users, v_ids
    FROM (SELECT x.user_id, x.id FROM notifications x WHERE x.created_at < p_before LIMIT p_limit) n;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    SELECT array_agg(DISTINCT y.stream) INTO v_streams FROM (
        SELECT unnest(v_users) AS stream
        UNION SELECT s.user_id FROM broadcast_state s
              WHERE s.notification_id = ANY (v_ids) AND s.user_id IS NOT NULL) y;
    PERFORM herald_lock_streams(v_streams);
    WITH b AS (SELECT u AS user_id, i AS id FROM unnest(v_users, v_ids) AS t(u, i) WHERE u = ''),
    d AS (
        DELETE FROM broadcast_state s USING b
        WHERE s.notification_id = b.id
        RETURNING s.user_id, (s.read_at IS NOT NULL OR s.deleted) AS counted),
    c AS (SELECT d.user_id, count(*) FILTER (WHERE d.counted) AS k, count(*) AS n FROM d GROUP BY d.user_id),
    u AS (UPDATE streams st SET seen = st.seen - c.k FROM c WHERE st.stream = c.user_id AND c.k > 0)
    SELECT coalesce(sum(c.n), 0) INTO v_m FROM c;
    WITH d AS (
        DELETE FROM notifications n USING unnest(v_users, v_ids) AS t(u, i)
        WHERE n.user_id = t.u AND n.id = t.i AND n.created_at < p_before
        RETURNING n.user_id, (n.read_at IS NULL) AS counted),
    c AS (SELECT d.user_id, count(*) FILTER (WHERE d.counted) AS k, count(*) AS n FROM d GROUP BY d.user_id),
    u AS (UPDATE streams st SET unread = st.unread - c.k FROM c WHERE st.stream = c.user_id AND c.k > 0)
    SELECT coalesce(sum(c.n), 0) INTO v_n FROM c;
    RETURN v_n + v_m;
END $$;
