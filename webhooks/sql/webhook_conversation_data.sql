CREATE OR REPLACE FUNCTION webhook_conversation_data(p_conversation_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT jsonb_build_object(
        'id', c.id,
        'website_id', c.website_id,
        'contact_id', c.contact_id,
        'status', c.status,
        'priority', (ARRAY['none', 'low', 'medium', 'high', 'urgent'])[c.priority + 1],
        'assignee', webhook_user_data(c.assignee_id),
        'labels', COALESCE((
            SELECT jsonb_agg(l.name ORDER BY l.name)
            FROM inbox_conversation_labels cl JOIN inbox_label l ON l.id = cl.label_id
            WHERE cl.conversation_id = c.id), '[]'::jsonb),
        'created_at', webhook_time(c.created_at),
        'last_message_at', webhook_time(c.last_message_at),
        'first_agent_reply_at', webhook_time(c.first_agent_reply_at),
        'resolved_at', webhook_time(c.resolved_at),
        'snoozed_until', webhook_time(c.snoozed_until))
    FROM inbox_conversation c WHERE c.id = p_conversation_id
$$;
