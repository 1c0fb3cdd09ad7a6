-- Give a slot back (an attempt recorded, or cancelled mid-flight) to the delivery parked longest.
CREATE OR REPLACE FUNCTION webhook_lease_release(p_endpoint_id bigint, p_slot integer, p_holder uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
    v_next bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema()), p_endpoint_id::integer);
    DELETE FROM webhooks_endpointlease
    WHERE endpoint_id = p_endpoint_id AND slot = p_slot AND holder = p_holder;
    IF NOT FOUND THEN
        RETURN;  -- the lease had run out and was taken over: that slot is not ours to hand on
    END IF;
    SELECT dl.id INTO v_next FROM webhooks_delivery dl
    WHERE dl.endpoint_id = p_endpoint_id AND dl.parked_at IS NOT NULL AND dl.status = 'pending'
    ORDER BY dl.id LIMIT 1;
    IF v_next IS NOT NULL THEN
        PERFORM webhook_deliveries_enqueue(ARRAY[v_next], NULL);
    END IF;
END
$$;
