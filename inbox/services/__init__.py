"""The inbox's writes, one module per topic, each write one transaction. Views, consumers, the API,
jobs and the widget call them; the names are re-exported here, so `services.message_from_agent`
reads the same from anywhere.

    websites       create, change, rotate the keys of, delete a website
    contacts       the visitor behind a widget token; identifying them
    messages       the visitor's and the agent's messages; the thread's system events
    conversations  assign, status, priority, labels, read; round robin; a member leaving; suspension
    settings       labels, canned responses, automatic assignment
"""

from inbox.services.contacts import (  # noqa: F401
    ATTRIBUTE_VALUE_MAX,
    ATTRIBUTES_MAX,
    IDENTITY_FIELDS,
    RECENT_PAGES,
    contact_for_visitor,
    contact_identify,
    visitor_token_hash,
)
from inbox.services.conversations import (  # noqa: F401
    account_taken_back,
    conversation_assign,
    conversation_auto_assign,
    conversation_label_set,
    conversation_mark_read,
    conversation_priority_set,
    conversation_status_set,
    conversations_unassign_member,
    conversations_wake_snoozed,
    member_removed,
    workspace_suspended,
)
from inbox.services.messages import (  # noqa: F401
    MENTION,
    MESSAGE_MAX_CHARS,
    VisitorMessageWritten,
    mentioned_member_ids,
    message_body_clean,
    message_client_id_clean,
    message_from_agent,
    message_from_visitor,
    message_from_visitor_on_loop,
    system_event,
)
from inbox.services.settings import (  # noqa: F401
    HEX_COLOR,
    canned_response_create,
    canned_response_delete,
    inbox_settings_update,
    label_create,
    label_delete,
)
from inbox.services.websites import (  # noqa: F401
    website_create,
    website_delete,
    website_identity_secret_rotate,
    website_site_key_rotate,
    website_update,
)
