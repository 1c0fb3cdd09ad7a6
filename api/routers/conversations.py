"""/conversations: the inbox's conversations, read with its filters; their status and assignee set."""

from __future__ import annotations

from django.http import Http404
from ninja import Query, Router

from accounts.models import User
from api.auth import key_member
from api.errors import ApiError
from api.schemas import (
    ERRORS,
    WRITE_ERRORS,
    AssigneeIn,
    ConversationFilters,
    ConversationOut,
    ConversationPage,
    PathId,
    StatusIn,
)
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.models import Conversation
from webhooks import selectors as webhook_selectors

router = Router(tags=["conversations"])


def conversation_or_404(conversation_id: int) -> Conversation:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


@router.get("", response={200: ConversationPage, **ERRORS})
def list_conversations(request, filters: Query[ConversationFilters]):
    """Conversations, latest activity first, filtered as in the inbox; a page at a time."""
    page = inbox_selectors.conversation_page(
        agent_id=request.api_key.created_by_id,
        filters=inbox_selectors.InboxFilters(
            tab=filters.tab,
            status=filters.status,
            website_id=filters.website_id,
            assignee_id=filters.assignee_id,
            label_id=filters.label_id,
            query=filters.q.strip(),
        ),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    ids = [c.pk for c in page.conversations]
    return {
        "data": webhook_selectors.documented_objects("conversation", ids),
        "next_cursor": page.next_cursor,
    }


@router.get("/{conversation_id}", response={200: ConversationOut, **ERRORS})
def get_conversation(request, conversation_id: PathId):
    return webhook_selectors.documented_object("conversation", conversation_or_404(conversation_id).pk)


@router.post("/{conversation_id}/status", response={200: ConversationOut, **WRITE_ERRORS})
def set_status(request, conversation_id: PathId, change: StatusIn):
    author = key_member(request)
    conversation = inbox_services.conversation_status_set(
        conversation=conversation_or_404(conversation_id),
        status=change.status,
        by=author,
        snoozed_until=change.snoozed_until,
    )
    return webhook_selectors.documented_object("conversation", conversation.pk)


@router.post("/{conversation_id}/assignee", response={200: ConversationOut, **WRITE_ERRORS})
def set_assignee(request, conversation_id: PathId, change: AssigneeIn):
    author = key_member(request)
    conversation = conversation_or_404(conversation_id)
    assignee = None
    if change.assignee_id is not None:
        assignee = User.objects.filter(pk=change.assignee_id).first()
        if assignee is None:
            raise ApiError(400, "not_a_member", "assignee_id is not a member of this workspace.")
    conversation = inbox_services.conversation_assign(conversation=conversation, assignee=assignee, by=author)
    return webhook_selectors.documented_object("conversation", conversation.pk)
