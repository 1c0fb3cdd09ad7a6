"""A delivery that finds every slot of its endpoint taken is parked, instead of holding a worker.

Before, such a job waited in the worker for a slot (up to PARLEY_WEBHOOK_SLOT_WAIT) and then went back
to the end of the queue, again and again: a slow receiver's jobs filled the worker's job slots and every
other endpoint, of every workspace, waited behind them. Now the claim parks it (`parked_at`) and returns
at once; each slot given back hands itself to the longest-parked delivery of that endpoint by queueing
its job, so an endpoint's deliveries run as a lane as wide as its slots and cost no one else a slot.
A parked delivery also keeps a job due when every lease has run out: the backstop for a slot whose
worker died holding it (nothing would hand that slot on).

And every secret a rotation replaced signs until its own overlap ends (`retired_secrets`): with one
`previous_secret`, a second rotation within 24 hours dropped the first secret at once.
"""

import importlib

from django.db import migrations, models

_0003 = importlib.import_module("webhooks.migrations.0003_delivery_functions")

CREATE = r"""
CREATE OR REPLACE FUNCTION webhook_deliveries_enqueue(p_delivery_ids bigint[], p_at timestamptz) RETURNS void
LANGUAGE sql VOLATILE SET search_path FROM CURRENT AS $$
    WITH queued AS (
        UPDATE webhooks_delivery
        SET job_token = job_token + 1, next_attempt_at = COALESCE(p_at, now()), parked_at = NULL
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

DROP FUNCTION webhook_delivery_claim(bigint, integer, uuid, integer, double precision, double precision);

-- What to send for this job, holding one of the endpoint's p_slots slots. `outcome`:
--   claimed  the row carries the delivery and the slot taken;
--   nothing  delivered already, an older job (p_job_token), or the endpoint is disabled (the
--            delivery stays pending: enabling the endpoint queues it again);
--   parked   every slot is held: the delivery waits, without a job running, for the next slot given
--            back (webhook_lease_release), or at the latest until every lease now held has run out.
-- A slot whose lease ran out (its worker died) is free; a lease lasts p_lease seconds.
CREATE FUNCTION webhook_delivery_claim(
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
"""

# Back to 0003: its three functions as they were, and the enqueue of 0002 without `parked_at`.
DROP = (
    r"""
DROP FUNCTION webhook_delivery_claim(bigint, integer, uuid, integer, double precision);
DROP FUNCTION webhook_delivery_record(
    bigint, bigint, integer, uuid, integer, integer, text, text, double precision[], double precision);
DROP FUNCTION webhook_lease_release(bigint, integer, uuid);
CREATE OR REPLACE FUNCTION webhook_deliveries_enqueue(p_delivery_ids bigint[], p_at timestamptz) RETURNS void
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
"""
    + _0003.CREATE
)


RETIRED_FROM_PREVIOUS = r"""
UPDATE webhooks_endpoint
SET retired_secrets = jsonb_build_array(jsonb_build_object(
    'sealed', previous_secret_sealed,
    'expires_at', to_char(previous_secret_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')))
WHERE previous_secret_sealed <> '' AND previous_secret_expires_at > now();
"""

PREVIOUS_FROM_RETIRED = r"""
UPDATE webhooks_endpoint
SET previous_secret_sealed = retired_secrets -> -1 ->> 'sealed',
    previous_secret_expires_at = (retired_secrets -> -1 ->> 'expires_at')::timestamptz
WHERE jsonb_array_length(retired_secrets) > 0;
"""


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0003_delivery_functions")]

    operations = [
        migrations.AddField(
            model_name="endpoint",
            name="retired_secrets",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunSQL(RETIRED_FROM_PREVIOUS, PREVIOUS_FROM_RETIRED),
        migrations.RemoveField(model_name="endpoint", name="previous_secret_expires_at"),
        migrations.RemoveField(model_name="endpoint", name="previous_secret_sealed"),
        migrations.AddField(
            model_name="delivery",
            name="parked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("parked_at__isnull", False)),
                fields=["endpoint", "id"],
                name="delivery_parked_idx",
            ),
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
