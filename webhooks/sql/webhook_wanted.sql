-- Whether any enabled endpoint wants this event: callers skip building the data when none does.
CREATE OR REPLACE FUNCTION webhook_wanted(p_type text, p_private boolean DEFAULT false) RETURNS boolean
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT EXISTS (
        SELECT 1 FROM webhooks_endpoint e
        WHERE e.enabled AND p_type = ANY(e.event_types) AND (e.include_private_notes OR NOT p_private))
$$;
