"""The visitor's message write as a function in each workspace schema (see inbox.services).

One statement from the caller, one round trip, plans cached by PL/pgSQL per connection. Each statement
inside gets a fresh snapshot (READ COMMITTED, volatile function), so what follows the lock on the
contact sees everything committed before it. SET search_path FROM CURRENT pins the function to the
schema it was created in (migrate_schemas runs with that schema first), whatever the caller's path.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION visitor_message_write(
    p_contact_id bigint, p_body text, p_client_id uuid, p_now timestamptz
) RETURNS TABLE (
    o_prev_id bigint, o_message_id bigint, o_conversation_id bigint, o_new_conversation boolean,
    o_duplicate_id bigint, o_duplicate_conversation_id bigint, o_duplicate_body text,
    o_duplicate_created_at timestamptz
)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
DECLARE
    v_website_id bigint;
    v_prev_id bigint;
    v_conversation_id bigint;
    v_message_id bigint;
    v_new boolean := false;
BEGIN
    -- The lock orders a visitor's messages' ids by commit and serialises their writes.
    SELECT website_id, last_message_id INTO v_website_id, v_prev_id
    FROM inbox_contact WHERE id = p_contact_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p_client_id IS NOT NULL THEN  -- a resend: answer with what was stored, write nothing
        RETURN QUERY SELECT v_prev_id, NULL::bigint, NULL::bigint, false, m.id, m.conversation_id,
            m.body, m.created_at
        FROM inbox_message m WHERE m.contact_id = p_contact_id AND m.client_id = p_client_id;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    SELECT id INTO v_conversation_id FROM inbox_conversation
    WHERE contact_id = p_contact_id AND status <> 'resolved' ORDER BY id DESC LIMIT 1;
    IF v_conversation_id IS NULL THEN  -- the first message, or the first since the last was resolved
        INSERT INTO inbox_conversation
            (website_id, contact_id, status, created_at, updated_at, last_message_at)
        VALUES (v_website_id, p_contact_id, 'open', p_now, p_now, p_now)
        RETURNING id INTO v_conversation_id;
        v_new := true;
    ELSE
        UPDATE inbox_conversation SET last_message_at = p_now, updated_at = p_now,
            status = CASE WHEN status = 'snoozed' THEN 'open' ELSE status END  -- writing wakes it up
        WHERE id = v_conversation_id;
    END IF;
    INSERT INTO inbox_message
        (conversation_id, contact_id, author_kind, author_id, body, client_id, created_at)
    VALUES (v_conversation_id, p_contact_id, 'visitor', NULL, p_body, p_client_id, p_now)
    RETURNING id INTO v_message_id;
    UPDATE inbox_contact SET last_message_id = v_message_id, last_seen_at = p_now
    WHERE id = p_contact_id;
    RETURN QUERY SELECT v_prev_id, v_message_id, v_conversation_id, v_new,
        NULL::bigint, NULL::bigint, NULL::text, NULL::timestamptz;
END
$$
"""

DROP = "DROP FUNCTION visitor_message_write(bigint, text, uuid, timestamptz)"


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
