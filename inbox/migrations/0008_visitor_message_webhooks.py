"""visitor_message_write now records its webhook events (webhooks 0002) in its own transaction:
conversation.created for a new conversation, conversation.updated when the message wakes a snoozed
one, and message.created; each only when an endpoint wants it."""

import importlib

from django.db import migrations

CREATE_OR_REPLACE = """
CREATE OR REPLACE FUNCTION visitor_message_write(
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
    v_status text;
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
        NULL::bigint, NULL::bigint, NULL::text, NULL::timestamptz;
END
$$
"""

_previous = importlib.import_module("inbox.migrations.0003_inbox_triage")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0007_contact_recent_pages"), ("webhooks", "0002_outbox_functions")]

    operations = [migrations.RunSQL(CREATE_OR_REPLACE, _previous.CREATE_OR_REPLACE)]
