-- Herald's write operations as server-side functions, so that a whole group
-- commit (many requests) travels to the server and back in one round trip.
-- Each function is one request; none raises for an expected outcome (a
-- duplicate, an id not found): those are returned as values, so an error
-- always means a broken request or database, never a normal answer.

-- herald_lock_streams takes the row locks of the given streams (creating
-- missing rows at position 0) in one statement, in byte order. Every
-- transaction that appends to streams takes all its locks here first, so two
-- transactions can never wait for each other in a cycle (no deadlock), and
-- holds them until it commits (see doc.go on commit order).
CREATE FUNCTION herald_lock_streams(p_streams text[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO streams AS s (stream, last_seq)
    SELECT DISTINCT x COLLATE "C", 0 FROM unnest(p_streams) AS x ORDER BY 1
    ON CONFLICT (stream) DO UPDATE SET last_seq = s.last_seq
$$;

-- herald_append stores one event at the next position of its stream and
-- returns that position.
CREATE FUNCTION herald_append(p_stream text, p_name text, p_data text, p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
BEGIN
    INSERT INTO streams AS s (stream, last_seq) VALUES (p_stream, 1)
    ON CONFLICT (stream) DO UPDATE SET last_seq = s.last_seq + 1
    RETURNING s.last_seq INTO v_seq;
    INSERT INTO events (stream, seq, name, data, created_at) VALUES (p_stream, v_seq, p_name, p_data, p_at);
    RETURN v_seq;
END $$;

-- herald_publish stores one publish request (notify.Store.Publish): the
-- notifications p_ids[i] for p_users[i] ('' for a broadcast) with their
-- events, after collapsing, unless p_idem_key was stored after p_idem_since.
-- It returns the stored events in order, or one row named 'duplicate' whose
-- data are the receipts stored with the key.
CREATE FUNCTION herald_publish(
    p_ids text[], p_users text[], p_collapse text[], p_created timestamptz[], p_event_data text[],
    p_type text[], p_title text[], p_message text[], p_data text[], p_link text[],
    p_idem_key text, p_receipts text, p_now timestamptz, p_idem_since timestamptz)
RETURNS TABLE (o_stream text, o_seq bigint, o_name text, o_data text, o_created_at timestamptz)
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
                o_seq := herald_append(o_stream, o_name, o_data, o_created_at);
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
        o_seq := herald_append(o_stream, o_name, o_data, o_created_at);
        RETURN NEXT;
    END LOOP;
END $$;

-- herald_append_events stores system events in order and returns their
-- positions in the same order.
CREATE FUNCTION herald_append_events(p_streams text[], p_names text[], p_datas text[], p_ats timestamptz[])
RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. cardinality(p_streams) LOOP
        RETURN NEXT herald_append(p_streams[i], p_names[i], p_datas[i], p_ats[i]);
    END LOOP;
END $$;

-- herald_inbox_change marks read (p_delete false) or deletes (true) the
-- notification p_id of p_user's inbox, appending the event. o_status is
-- 'not_found' (unknown, another user's, or a broadcast this user deleted),
-- 'unchanged' (already read) or 'ok' with the event's position and data.
CREATE FUNCTION herald_inbox_change(p_user text, p_id text, p_delete boolean, p_now timestamptz)
RETURNS TABLE (o_status text, o_seq bigint, o_data text)
LANGUAGE plpgsql AS $$
DECLARE
    v_owner   text;
    v_read    timestamptz;
    v_bc_read timestamptz;
    v_bc_del  boolean;
BEGIN
    -- The user's stream lock serialises every change to this inbox, so the
    -- state read here holds until commit.
    PERFORM herald_lock_streams(ARRAY[p_user]);
    -- Two primary-key probes: the notification (the user's or a
    -- broadcast), then for a broadcast this user's state of it.
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
    IF p_delete THEN
        IF v_owner = '' THEN
            INSERT INTO broadcast_state (user_id, notification_id, deleted) VALUES (p_user, p_id, true)
            ON CONFLICT (user_id, notification_id) DO UPDATE SET deleted = true;
        ELSE
            DELETE FROM notifications WHERE user_id = p_user AND id = p_id;
        END IF;
    ELSE
        IF (v_owner = '' AND v_bc_read IS NOT NULL) OR (v_owner <> '' AND v_read IS NOT NULL) THEN
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
    o_seq := herald_append(p_user, CASE WHEN p_delete THEN 'notification.deleted' ELSE 'notification.read' END,
                           o_data, p_now);
    RETURN NEXT;
END $$;

-- herald_mark_all_read marks every unread notification of p_user's inbox
-- read and, when there were any, appends {"all":true}; it returns how many
-- changed and the event's position (NULL when none).
CREATE FUNCTION herald_mark_all_read(p_user text, p_now timestamptz)
RETURNS TABLE (o_updated bigint, o_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_bc bigint;
BEGIN
    PERFORM herald_lock_streams(ARRAY[p_user]);
    UPDATE notifications SET read_at = p_now WHERE user_id = p_user AND read_at IS NULL;
    GET DIAGNOSTICS o_updated = ROW_COUNT;
    INSERT INTO broadcast_state (user_id, notification_id, read_at)
    SELECT p_user, n.id, p_now FROM notifications n WHERE n.user_id = ''
    ON CONFLICT (user_id, notification_id) DO UPDATE SET read_at = excluded.read_at
        WHERE broadcast_state.read_at IS NULL AND NOT broadcast_state.deleted;
    GET DIAGNOSTICS v_bc = ROW_COUNT;
    o_updated := o_updated + v_bc;
    IF o_updated > 0 THEN
        o_seq := herald_append(p_user, 'notification.read', '{"all":true}', p_now);
    END IF;
    RETURN NEXT;
END $$;

-- herald_prune_events deletes up to p_limit events created before p_before
-- and raises pruned_seq of their streams; it returns the number deleted.
-- Deleted events are never touched by writers, so the only locks that can
-- be contended are the streams', taken in order by herald_lock_streams.
CREATE FUNCTION herald_prune_events(p_before timestamptz, p_limit int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_streams text[];
    v_high    bigint[];
    v_n       bigint;
BEGIN
    WITH d AS (
        DELETE FROM events e WHERE (e.stream, e.seq) IN (
            SELECT x.stream, x.seq FROM events x WHERE x.created_at < p_before LIMIT p_limit)
        RETURNING e.stream, e.seq),
    h AS (SELECT d.stream, max(d.seq) AS high, count(*) AS n FROM d GROUP BY d.stream)
    SELECT array_agg(h.stream ORDER BY h.stream), array_agg(h.high ORDER BY h.stream), coalesce(sum(h.n), 0)
    INTO v_streams, v_high, v_n FROM h;
    IF v_n > 0 THEN
        PERFORM herald_lock_streams(v_streams);
        UPDATE streams s SET pruned_seq = greatest(s.pruned_seq, u.high)
        FROM unnest(v_streams, v_high) AS u(stream, high)
        WHERE s.stream = u.stream;
    END IF;
    RETURN v_n;
END $$;
