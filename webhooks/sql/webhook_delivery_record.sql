-- The worker's second write (webhooks.delivery), in one round trip, in a transaction of its own:
-- store the attempt and decide what follows (delivered, the next retry queued, given up, the
-- endpoint disabled), then give the slot back (webhook_lease_release).
-- Store an attempt (its slot given back), then: a 2xx marks the delivery delivered and clears the
-- endpoint's failing clock; a failure starts that clock, queues the next try p_schedule[failures]
-- seconds later, or gives up (status failed) once the schedule is spent. A 410 disables the
-- endpoint at once; so does failing without a break for p_disable_after seconds (`tell_owners`:
-- the caller emails them). `outcome`: succeeded, retrying, failed or disabled.
CREATE OR REPLACE FUNCTION webhook_delivery_record(
    p_delivery_id bigint, p_endpoint_id bigint, p_slot integer, p_holder uuid,
    p_duration_ms integer, p_status_code integer, p_response_body text, p_error text,
    p_schedule double precision[], p_disable_after double precision
) RETURNS TABLE (outcome text, tell_owners boolean)
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
    v_succeeded boolean := p_status_code BETWEEN 200 AND 299;
    v_failures integer;
    v_endpoint record;
    v_reason text;
    v_tell_owners boolean := false;
BEGIN
    PERFORM webhook_lease_release(p_endpoint_id, p_slot, p_holder);
    INSERT INTO webhooks_attempt (delivery_id, started_at, duration_ms, status_code, response_body, error)
    VALUES (p_delivery_id, now() - make_interval(secs => p_duration_ms / 1000.0), p_duration_ms,
            p_status_code, p_response_body, p_error);

    IF v_succeeded THEN
        UPDATE webhooks_delivery
        SET status = 'succeeded', failures = 0, next_attempt_at = NULL, attempts = attempts + 1,
            last_attempt_at = now(), last_status_code = p_status_code
        WHERE id = p_delivery_id;
        UPDATE webhooks_endpoint SET failing_since = NULL WHERE id = p_endpoint_id AND failing_since IS NOT NULL;
        RETURN QUERY SELECT 'succeeded', false;
        RETURN;
    END IF;

    UPDATE webhooks_delivery
    SET failures = failures + 1, attempts = attempts + 1, last_attempt_at = now(),
        last_status_code = p_status_code
    WHERE id = p_delivery_id
    RETURNING failures INTO v_failures;
    UPDATE webhooks_endpoint SET failing_since = now()
    WHERE id = p_endpoint_id AND failing_since IS NULL;
    SELECT e.enabled, e.failing_since INTO v_endpoint FROM webhooks_endpoint e WHERE e.id = p_endpoint_id;

    IF v_endpoint.enabled AND p_status_code = 410 THEN
        v_reason := 'The receiver answered 410 Gone.';
    ELSIF v_endpoint.enabled AND now() - v_endpoint.failing_since >= make_interval(secs => p_disable_after) THEN
        v_reason := 'Every delivery failed since '
            || to_char(v_endpoint.failing_since AT TIME ZONE 'UTC', 'Mon FMDD, HH24:MI') || ' UTC.';
        v_tell_owners := true;
    END IF;
    IF v_reason IS NOT NULL THEN
        -- The delivery stays pending, with the rest: enabling the endpoint sends them.
        UPDATE webhooks_endpoint SET enabled = false, disabled_reason = v_reason, updated_at = now()
        WHERE id = p_endpoint_id;
        RETURN QUERY SELECT 'disabled', v_tell_owners;
        RETURN;
    END IF;

    IF v_failures > cardinality(p_schedule) THEN
        UPDATE webhooks_delivery SET status = 'failed', next_attempt_at = NULL WHERE id = p_delivery_id;
        RETURN QUERY SELECT 'failed', false;
    ELSIF NOT v_endpoint.enabled THEN
        RETURN QUERY SELECT 'disabled', false;  -- disabled meanwhile: it goes out when enabled
    ELSE
        PERFORM webhook_deliveries_enqueue(
            ARRAY[p_delivery_id], now() + make_interval(secs => p_schedule[v_failures]));
        RETURN QUERY SELECT 'retrying', false;
    END IF;
END
$$;
