CREATE OR REPLACE FUNCTION webhook_user_data(p_user_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_build_object(
        'id', u.id,
        'name', COALESCE(NULLIF(u.display_name, ''), split_part(u.email, '@', 1)),
        'email', u.email)
    FROM accounts_user u WHERE u.id = p_user_id
$$;
