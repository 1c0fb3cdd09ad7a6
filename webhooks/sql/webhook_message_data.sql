CREATE OR REPLACE FUNCTION webhook_message_data(p_message_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_build_object(
        'id', m.id,
        'conversation_id', m.conversation_id,
        'contact_id', m.contact_id,
        'kind', m.author_kind,
        'body', m.body,
        'author', webhook_user_data(m.author_id),
        'created_at', webhook_time(m.created_at))
    FROM inbox_message m WHERE m.id = p_message_id
$$;
