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
