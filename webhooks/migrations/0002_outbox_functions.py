"""The webhook outbox as functions in each workspace schema.

Every event is recorded by `webhook_event_record`, called inside the transaction of the change that
caused it: from Python services (webhooks.services.event_record) and from the visitor's one-statement
message write (the SQL function visitor_message_write, replaced in inbox 0008). It stores the envelope, one
delivery per subscribed endpoint, and queues their procrastinate jobs through procrastinate's own
versioned SQL API (procrastinate_defer_jobs_v1), all in that transaction. The objects in `data` are
built here, once, so both callers send the same shapes (documented in the README).

SET search_path FROM CURRENT pins each function to its workspace schema (then public, where the
users, the workspace row and procrastinate's tables live), whatever the caller's path.
"""

from django.db import migrations

CREATE = r"""
CREATE FUNCTION webhook_time(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE FUNCTION webhook_user_data(p_user_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_build_object(
        'id', u.id,
        'name', COALESCE(NULLIF(u.display_name, ''), split_part(u.email, '@', 1)),
        'email', u.email)
    FROM accounts_user u WHERE u.id = p_user_id
$$;

CREATE FUNCTION webhook_conversation_data(p_conversation_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_build_object(
        'id', c.id,
        'website_id', c.website_id,
        'contact_id', c.contact_id,
        'status', c.status,
        'priority', (ARRAY['none', 'low', 'medium', 'high', 'urgent'])[c.priority + 1],
        'assignee', webhook_user_data(c.assignee_id),
        'labels', COALESCE((
            SELECT jsonb_agg(l.name ORDER BY l.name)
            FROM inbox_conversation_labels cl JOIN inbox_label l ON l.id = cl.label_id
            WHERE cl.conversation_id = c.id), '[]'::jsonb),
        'created_at', webhook_time(c.created_at),
        'last_message_at', webhook_time(c.last_message_at),
        'first_agent_reply_at', webhook_time(c.first_agent_reply_at),
        'resolved_at', webhook_time(c.resolved_at),
        'snoozed_until', webhook_time(c.snoozed_until))
    FROM inbox_conversation c WHERE c.id = p_conversation_id
$$;

CREATE FUNCTION webhook_message_data(p_message_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_build_object(
        'id', m.id,
        'conversation_id', m.conversation_id,
        'contact_id', m.contact_id,
        'kind', m.author_kind,
        'body', m.body,
        'author', webhook_user_data(m.author_id),
        'created_at', webhook_time(m.created_at))
    FROM inbox_message m WHERE m.id = p_message_id
$$;

CREATE FUNCTION webhook_contact_data(p_contact_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_build_object(
        'id', c.id,
        'website_id', c.website_id,
        'name', c.name,
        'email', c.email,
        'external_id', c.external_id,
        'identity_verified', c.identity_verified,
        'custom_attributes', c.custom_attributes,
        'current_url', c.current_url,
        'created_at', webhook_time(c.created_at),
        'last_seen_at', webhook_time(c.last_seen_at))
    FROM inbox_contact c WHERE c.id = p_contact_id
$$;

-- Queue a job for each delivery, due at p_at (NULL: now). Older jobs for them become no-ops.
CREATE FUNCTION webhook_deliveries_enqueue(p_delivery_ids bigint[], p_at timestamptz) RETURNS void
LANGUAGE sql VOLATILE SET search_path FROM CURRENT AS $$
    WITH queued AS (
        UPDATE webhooks_delivery SET job_token = job_token + 1, next_attempt_at = COALESCE(p_at, now())
        WHERE id = ANY(p_delivery_ids)
        RETURNING id, endpoint_id, job_token
    )
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW('webhooks', 'webhooks.tasks.deliver', 0, NULL, NULL,
                   jsonb_build_object('schema_name', current_schema(), 'delivery_id', q.id,
                                      'endpoint_id', q.endpoint_id, 'job_token', q.job_token),
                   p_at)::procrastinate_job_to_defer_v1
        FROM queued q))
$$;

-- Whether any enabled endpoint wants this event: callers skip building the data when none does.
CREATE FUNCTION webhook_wanted(p_type text, p_private boolean DEFAULT false) RETURNS boolean
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT EXISTS (
        SELECT 1 FROM webhooks_endpoint e
        WHERE e.enabled AND p_type = ANY(e.event_types) AND (e.include_private_notes OR NOT p_private))
$$;

-- Record one event for every enabled endpoint that wants it (or only for p_endpoint_id, a test
-- event); returns how many deliveries it queued. Nothing is stored when no endpoint wants it.
CREATE FUNCTION webhook_event_record(
    p_type text, p_data jsonb, p_private boolean DEFAULT false, p_endpoint_id bigint DEFAULT NULL
) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
    v_event_id bigint;
    v_delivery_ids bigint[];
BEGIN
    IF p_endpoint_id IS NULL AND NOT webhook_wanted(p_type, p_private) THEN
        RETURN 0;
    END IF;
    INSERT INTO webhooks_event (type, payload)
    VALUES (p_type, jsonb_build_object(
        'type', p_type,
        'timestamp', webhook_time(clock_timestamp()),
        'workspace', (SELECT w.slug FROM tenants_workspace w WHERE w.schema_name = current_schema()),
        'data', p_data))
    RETURNING id INTO v_event_id;
    WITH created AS (
        INSERT INTO webhooks_delivery (event_id, endpoint_id)
        SELECT v_event_id, e.id FROM webhooks_endpoint e
        WHERE CASE WHEN p_endpoint_id IS NULL
            THEN e.enabled AND p_type = ANY(e.event_types) AND (e.include_private_notes OR NOT p_private)
            ELSE e.id = p_endpoint_id END
        RETURNING id
    )
    SELECT array_agg(id) INTO v_delivery_ids FROM created;
    IF v_delivery_ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM webhook_deliveries_enqueue(v_delivery_ids, NULL);
    RETURN cardinality(v_delivery_ids);
END
$$;
"""

DROP = """
DROP FUNCTION webhook_event_record(text, jsonb, boolean, bigint);
DROP FUNCTION webhook_wanted(text, boolean);
DROP FUNCTION webhook_deliveries_enqueue(bigint[], timestamptz);
DROP FUNCTION webhook_contact_data(bigint);
DROP FUNCTION webhook_message_data(bigint);
DROP FUNCTION webhook_conversation_data(bigint);
DROP FUNCTION webhook_user_data(bigint);
DROP FUNCTION webhook_time(timestamptz);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("inbox", "0007_contact_recent_pages"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
