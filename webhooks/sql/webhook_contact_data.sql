CREATE OR REPLACE FUNCTION webhook_contact_data(p_contact_id bigint) RETURNS jsonb
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
