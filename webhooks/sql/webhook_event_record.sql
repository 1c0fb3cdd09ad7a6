-- The webhook outbox. Every event is recorded here, inside the transaction of the change that
-- caused it: from Python services (webhooks.services.event_record) and from the visitor's
-- one-statement message write (inbox/sql/visitor_message_write.sql). It stores the envelope, one
-- delivery per subscribed endpoint, and queues their procrastinate jobs through procrastinate's own
-- versioned SQL API (webhook_deliveries_enqueue), all in that transaction. The objects in `data` are
-- built by webhook_*_data, once, so every caller and the REST API send the same shapes.
-- Record one event for every enabled endpoint that wants it (or only for p_endpoint_id, a test
-- event); returns how many deliveries it queued. Nothing is stored when no endpoint wants it.
CREATE OR REPLACE FUNCTION webhook_event_record(
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
