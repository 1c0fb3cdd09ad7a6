-- The worker's first write (webhooks.delivery), in one round trip on its event loop, in a
-- transaction of its own: read what to send and take one of the endpoint's slots. A delivery that
-- finds every slot taken is parked instead of holding a worker, so a slow receiver's deliveries run
-- as a lane as wide as its slots and cost no other endpoint a worker slot.
-- What to send for this job, holding one of the endpoint's p_slots slots. `outcome`:
--   claimed  the row carries the delivery and the slot taken;
--   nothing  delivered already, an older job (p_job_token), or the endpoint is disabled (the
--            delivery stays pending: enabling the endpoint queues it again);
--   parked   every slot is held: the delivery waits, without a job running, for the next slot given
--            back (webhook_lease_release), or at the latest until every lease now held has run out;
--   suspended  the workspace is suspended (staff console): nothing is sent and the delivery is held
--            (`held_at`): pending, with no job, until unsuspending queues the held ones again
--            (webhooks.services.deliveries_resume). Only this job's delivery, still to send to an
--            enabled endpoint, is held: a delivery waiting out a retry, or in flight, keeps its job.
-- A slot whose lease ran out (its worker died) is free; a lease lasts p_lease seconds.
CREATE OR REPLACE FUNCTION webhook_delivery_claim(
    p_delivery_id bigint, p_job_token integer, p_holder uuid, p_slots integer, p_lease double precision
) RETURNS TABLE (
    outcome text, endpoint_id bigint, slot integer, url text, body text, webhook_id text,
    secret_sealed text, retired_secrets_sealed text[]
)
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
    d record;
    v_slot integer;
BEGIN
    SELECT dl.id, dl.endpoint_id, e.url::text AS url, ev.payload::text AS body,
           'msg_' || replace(ev.uid::text, '-', '') AS webhook_id, e.secret_sealed,
           ARRAY(SELECT r->>'sealed' FROM jsonb_array_elements(e.retired_secrets) r
                 WHERE (r->>'expires_at')::timestamptz > now()) AS retired_secrets_sealed
    INTO d
    FROM webhooks_delivery dl
    JOIN webhooks_endpoint e ON e.id = dl.endpoint_id
    JOIN webhooks_event ev ON ev.id = dl.event_id
    WHERE dl.id = p_delivery_id AND dl.job_token = p_job_token AND dl.status = 'pending' AND e.enabled;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'nothing', NULL::bigint, NULL::integer, NULL, NULL, NULL, NULL, NULL::text[];
        RETURN;
    END IF;

    -- The workspace's row, in the public schema (on this function's search path): its unique index.
    -- Read without a lock first (the common case: not suspended); a suspension seen is checked again
    -- under a share lock, which an unsuspend (it locks the row for update) waits for or is waited for:
    -- either its resume sees this delivery held, or this claim sees the suspension lifted and goes on.
    -- Without it, a hold written after the resume had looked would leave the delivery without a job.
    IF EXISTS (SELECT 1 FROM tenants_workspace w
               WHERE w.schema_name = current_schema() AND w.suspended_at IS NOT NULL) THEN
        PERFORM 1 FROM tenants_workspace w
        WHERE w.schema_name = current_schema() AND w.suspended_at IS NOT NULL FOR SHARE;
        IF FOUND THEN
            UPDATE webhooks_delivery SET held_at = now(), parked_at = NULL
            WHERE id = d.id AND job_token = p_job_token;
            RETURN QUERY SELECT 'suspended', NULL::bigint, NULL::integer, NULL, NULL, NULL, NULL, NULL::text[];
            RETURN;
        END IF;
    END IF;

    -- Claims and releases of one endpoint take turns (to commit): two claims would both see slot 0
    -- free, and a claim parking beside a release handing its slot on would miss it.
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
        PERFORM webhook_deliveries_enqueue(ARRAY[d.id], now() + make_interval(secs => p_lease));
        UPDATE webhooks_delivery SET parked_at = now() WHERE id = d.id;
        RETURN QUERY SELECT 'parked', d.endpoint_id, NULL::integer, NULL, NULL, NULL, NULL, NULL::text[];
        RETURN;
    END IF;
    RETURN QUERY SELECT 'claimed', d.endpoint_id, v_slot, d.url, d.body, d.webhook_id,
                        d.secret_sealed, d.retired_secrets_sealed;
END
$$;
