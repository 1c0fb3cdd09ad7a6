"""The worker's two writes as functions in each workspace schema: claim a delivery, record its attempt.

A worker calls each on its event loop in one round trip (webhooks.delivery), instead of a thread
and a dozen ORM statements: the claim reads what to send and takes one of the endpoint's slots, the
record stores the attempt and decides what follows (delivered, the next retry queued, given up, the
endpoint disabled). Each runs in a transaction of its own, the statement's.

SET search_path FROM CURRENT pins each function to its workspace schema (then public).
"""

from django.db import migrations

CREATE = r"""
-- What to send for this job, holding one of the endpoint's p_slots slots. `outcome`:
--   claimed  the row carries the delivery and the slot taken;
--   nothing  delivered already, an older job (p_job_token), or the endpoint is disabled (the
--            delivery stays pending: enabling the endpoint queues it again);
--   busy     every slot is held: the delivery is queued again, due p_busy_delay seconds later.
-- A slot whose lease ran out (its worker died) is free; a lease lasts p_lease seconds.
CREATE FUNCTION webhook_delivery_claim(
    p_delivery_id bigint, p_job_token integer, p_holder uuid, p_slots integer,
    p_lease double precision, p_busy_delay double precision
) RETURNS TABLE (
    outcome text, endpoint_id bigint, slot integer, url text, body text, webhook_id text,
    secret_sealed text, previous_secret_sealed text
)
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
    d record;
    v_slot integer;
BEGIN
    SELECT dl.id, dl.endpoint_id, e.url::text AS url, ev.payload::text AS body,
           'msg_' || replace(ev.uid::text, '-', '') AS webhook_id, e.secret_sealed,
           CASE WHEN e.previous_secret_expires_at > now() THEN NULLIF(e.previous_secret_sealed, '') END
               AS previous_secret_sealed
    INTO d
    FROM webhooks_delivery dl
    JOIN webhooks_endpoint e ON e.id = dl.endpoint_id
    JOIN webhooks_event ev ON ev.id = dl.event_id
    WHERE dl.id = p_delivery_id AND dl.job_token = p_job_token AND dl.status = 'pending' AND e.enabled;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'nothing', NULL::bigint, NULL::integer, NULL, NULL, NULL, NULL, NULL;
        RETURN;
    END IF;

    -- Two claims at once would both see slot 0 free and one would lose: they take turns (to commit).
    PERFORM pg_advisory_xact_lock(hashtext(current_schema()), d.endpoint_id::integer);
    INSERT INTO webhooks_endpointlease AS l (endpoint_id, slot, holder, expires_at)
    SELECT d.endpoint_id, s, p_holder, now() + make_interval(secs => p_lease)
    FROM generate_series(0, p_slots - 1) s
    WHERE NOT EXISTS (
        SELECT 1 FROM webhooks_endpointlease held
        WHERE held.endpoint_id = d.endpoint_id AND held.slot = s AND held.expires_at > now())
    LIMIT 1
    ON CONFLICT ON CONSTRAINT lease_slot_once DO UPDATE
        SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE l.expires_at <= now()
    RETURNING l.slot INTO v_slot;
    IF v_slot IS NULL THEN
        PERFORM webhook_deliveries_enqueue(ARRAY[d.id], now() + make_interval(secs => p_busy_delay));
        RETURN QUERY SELECT 'busy', d.endpoint_id, NULL::integer, NULL, NULL, NULL, NULL, NULL;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'claimed', d.endpoint_id, v_slot, d.url, d.body, d.webhook_id,
                        d.secret_sealed, d.previous_secret_sealed;
END
$$;

-- Give a slot back (a delivery cancelled mid-flight).
CREATE FUNCTION webhook_lease_release(p_endpoint_id bigint, p_slot integer, p_holder uuid) RETURNS void
LANGUAGE sql VOLATILE SET search_path FROM CURRENT AS $$
    DELETE FROM webhooks_endpointlease
    WHERE endpoint_id = p_endpoint_id AND slot = p_slot AND holder = p_holder
$$;

-- Store an attempt (its slot given back), then: a 2xx marks the delivery delivered and clears the
-- endpoint's failing clock; a failure starts that clock, queues the next try p_schedule[failures]
-- seconds later, or gives up (status failed) once the schedule is spent. A 410 disables the
-- endpoint at once; so does failing without a break for p_disable_after seconds (`tell_owners`:
-- the caller emails them). `outcome`: succeeded, retrying, failed or disabled.
CREATE FUNCTION webhook_delivery_record(
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
"""

DROP = """
DROP FUNCTION webhook_delivery_record(
    bigint, bigint, integer, uuid, integer, integer, text, text, double precision[], double precision);
DROP FUNCTION webhook_lease_release(bigint, integer, uuid);
DROP FUNCTION webhook_delivery_claim(bigint, integer, uuid, integer, double precision, double precision);
"""


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_outbox_functions")]

    operations = [migrations.RunSQL(CREATE, DROP)]
