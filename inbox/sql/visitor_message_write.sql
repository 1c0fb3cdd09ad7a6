-- The visitor's message write (inbox.services): one statement from the caller, one round trip,
-- plans cached by PL/pgSQL per connection. Each statement inside gets a fresh snapshot (READ
-- COMMITTED, volatile function), so what follows the lock on the contact sees everything committed
-- before it. In the same transaction it records its webhook events (webhooks/sql/): conversation.created
-- for a new conversation, conversation.updated when the message wakes a snoozed one, and
-- message.created; each only when an endpoint wants it. Waking a snoozed conversation also writes
-- the thread's system event, as conversation_status_set does (o_reopened_*, for the agents' push).
-- Columns: the visitor's previous message (o_prev_id), the message stored, its conversation and
-- whether it is new; or, for a client_id stored before, that message (o_duplicate_*), nothing written.
-- SET search_path FROM CURRENT pins the function to the schema it was created in (migrate_schemas
-- runs with that schema first), whatever the caller's path.
CREATE OR REPLACE FUNCTION visitor_message_write(
    p_contact_id bigint, p_body text, p_client_id uuid, p_now timestamptz
) RETURNS TABLE (
    o_prev_id bigint, o_message_id bigint, o_conversation_id bigint, o_new_conversation boolean,
    o_duplicate_id bigint, o_duplicate_conversation_id bigint, o_duplicate_body text,
    o_duplicate_created_at timestamptz, o_reopened_id bigint, o_reopened_body text
)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
DECLARE
    v_website_id bigint;
    v_prev_id bigint;
    v_conversation_id bigint;
    v_status text;
    v_message_id bigint;
    v_reopened_id bigint;
    v_reopened_body text;
    v_name text;
    v_new boolean := false;
BEGIN
    -- The lock orders a visitor's messages' ids by commit and serialises their writes.
    SELECT website_id, last_message_id, name INTO v_website_id, v_prev_id, v_name
    FROM inbox_contact WHERE id = p_contact_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p_client_id IS NOT NULL THEN  -- a resend: answer with what was stored, write nothing
        RETURN QUERY SELECT v_prev_id, NULL::bigint, NULL::bigint, false, m.id, m.conversation_id,
            m.body, m.created_at, NULL::bigint, NULL::text
        FROM inbox_message m WHERE m.contact_id = p_contact_id AND m.client_id = p_client_id;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    SELECT id, status INTO v_conversation_id, v_status FROM inbox_conversation
    WHERE contact_id = p_contact_id AND status <> 'resolved' ORDER BY id DESC LIMIT 1;
    IF v_conversation_id IS NULL THEN  -- the first message, or the first since the last was resolved
        INSERT INTO inbox_conversation
            (website_id, contact_id, status, created_at, updated_at, last_message_at,
             unread_count, last_message_preview)
        VALUES (v_website_id, p_contact_id, 'open', p_now, p_now, p_now, 1, left(p_body, 140))
        RETURNING id INTO v_conversation_id;
        v_new := true;
    ELSE
        UPDATE inbox_conversation SET last_message_at = p_now, updated_at = p_now,
            unread_count = unread_count + 1, last_message_preview = left(p_body, 140),
            snoozed_until = NULL,
            status = CASE WHEN status = 'snoozed' THEN 'open' ELSE status END  -- writing wakes it up
        WHERE id = v_conversation_id;
        IF v_status = 'snoozed' THEN  -- the thread says why it is open again, before the message
            INSERT INTO inbox_message
                (conversation_id, contact_id, author_kind, author_id, body, client_id, created_at)
            VALUES (v_conversation_id, p_contact_id, 'system', NULL,
                    COALESCE(NULLIF(v_name, ''), 'The visitor') || ' reopened this conversation', NULL, p_now)
            RETURNING id, body INTO v_reopened_id, v_reopened_body;
        END IF;
    END IF;
    INSERT INTO inbox_message
        (conversation_id, contact_id, author_kind, author_id, body, client_id, created_at)
    VALUES (v_conversation_id, p_contact_id, 'visitor', NULL, p_body, p_client_id, p_now)
    RETURNING id INTO v_message_id;
    UPDATE inbox_contact SET last_message_id = v_message_id, last_seen_at = p_now
    WHERE id = p_contact_id;
    IF v_new AND webhook_wanted('conversation.created') THEN
        PERFORM webhook_event_record('conversation.created', webhook_conversation_data(v_conversation_id));
    ELSIF v_status = 'snoozed' AND webhook_wanted('conversation.updated') THEN
        PERFORM webhook_event_record('conversation.updated',
            webhook_conversation_data(v_conversation_id) || '{"changed": ["status"]}'::jsonb);
    END IF;
    IF webhook_wanted('message.created') THEN
        PERFORM webhook_event_record('message.created', webhook_message_data(v_message_id));
    END IF;
    RETURN QUERY SELECT v_prev_id, v_message_id, v_conversation_id, v_new,
        NULL::bigint, NULL::bigint, NULL::text, NULL::timestamptz, v_reopened_id, v_reopened_body;
END
$$;
