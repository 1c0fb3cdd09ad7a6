"""/conversations/{id}/messages: a conversation's thread, read a page at a time; a reply or private
note written as the member who made the key."""

from __future__ import annotations

from ninja import Query, Router, Status

from api import selectors
from api.auth import key_member
from api.routers.conversations import conversation_or_404
from api.schemas import ERRORS, WRITE_ERRORS, MessageOut, MessagePage, PathId, ReplyIn
from config.request_input import ID_MAX
from inbox import services as inbox_services
from webhooks import selectors as webhook_selectors

# Under the conversations' tag in the document: a message is read and written through its conversation.
router = Router(tags=["conversations"])


@router.get("/{conversation_id}/messages", response={200: MessagePage, **ERRORS})
def list_messages(
    request,
    conversation_id: PathId,
    after: int = Query(0, ge=0, le=ID_MAX),
    limit: int = Query(100, ge=1, le=500),
):
    """The thread, oldest first, from after the message id `after`: visitor and agent messages,
    private notes and system events (kind)."""
    conversation = conversation_or_404(conversation_id)
    ids = selectors.message_ids(conversation_id=conversation.pk, after=after, limit=limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    return {
        "data": webhook_selectors.documented_objects("message", ids),
        "next_after": ids[-1] if more else None,
    }


@router.post("/{conversation_id}/messages", response={201: MessageOut, **WRITE_ERRORS})
def post_message(request, conversation_id: PathId, reply: ReplyIn):
    """Reply as the member who made the key (or write a private note); the visitor sees a reply live."""
    author = key_member(request)
    conversation = conversation_or_404(conversation_id)
    message = inbox_services.message_from_agent(
        conversation=conversation,
        author=author,
        body=reply.body,
        client_id=reply.client_id,
        private=reply.private,
    )
    return Status(201, webhook_selectors.documented_object("message", message.pk))
