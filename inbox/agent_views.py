"""The agent inbox: a page of three panes, and the htmx endpoints that change its parts.

Every view renders the partials the live socket renders too (templates/inbox/partials/)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from config import request_input
from inbox import presence, selectors, services
from inbox.exceptions import InboxError
from inbox.models import Conversation, Label
from tenants import selectors as tenant_selectors
from tenants.models import Membership


def _conversation_or_404(conversation_id: int) -> Conversation:
    conversation = selectors.conversation_for_agent(conversation_id)
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def _members(request: HttpRequest) -> list[Membership]:
    return list(tenant_selectors.members_of_workspace(workspace=request.workspace))


def _pane_context(conversation: Conversation, members: list[Membership]) -> dict:
    return {
        "conversation": conversation,
        "thread": selectors.thread_messages(conversation=conversation),
        "history": selectors.contact_history(conversation=conversation),
        "members": members,
        "mention_handles": selectors.mention_handles(members),
        "statuses": Conversation.Status.choices,
        "priorities": Conversation.Priority.choices,
        "labels": selectors.labels_of_workspace(),
    }


def _list_context(
    request: HttpRequest,
    filters: selectors.InboxFilters,
    members: list[Membership],
    open_conversation_id,
    counts: dict[str, int] | None = None,
) -> dict:
    return {
        "filters": filters,
        "page": selectors.conversation_page(agent_id=request.user.pk, filters=filters),
        "counts": counts if counts is not None else selectors.inbox_counts(agent_id=request.user.pk),
        "websites": selectors.websites_of_workspace(),
        "labels": selectors.labels_of_workspace(),
        "members": members,
        "statuses": Conversation.Status.choices,
        "open_conversation_id": open_conversation_id,
    }


@require_GET
def inbox(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    """The whole inbox, optionally with one conversation open; with htmx, only that conversation's pane.
    Without a tab in the URL it opens on the first tab with something in it (selectors.opening_tab)."""
    filters = selectors.inbox_filters_from(request.GET)
    conversation = _conversation_or_404(conversation_id) if conversation_id else None
    members = _members(request)
    pane = {}
    if conversation is not None:
        # Read-only (staff viewing as this member, staff.middleware): opening it changes nothing.
        if not getattr(request, "read_only", False):
            services.conversation_mark_read(conversation=conversation)
        pane = _pane_context(conversation, members)
        if request.htmx and request.htmx.target == "conversation-pane":
            return render(request, "inbox/partials/conversation_pane.html", {**pane, "filters": filters})
    counts = selectors.inbox_counts(agent_id=request.user.pk)
    if "tab" not in request.GET:  # the tab badges' counts, reused: no query more
        filters = replace(filters, tab=selectors.opening_tab(counts, member_count=len(members)))
    open_id = conversation.pk if conversation else None
    context = {**pane, **_list_context(request, filters, members, open_id, counts)}
    online, away = presence.presence_sync(request.workspace.schema_name)
    context["team"] = selectors.presence_rows(members, online, away)
    return render(request, "inbox/inbox.html", context)


@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    """The list pane for new filters, or (with `cursor`) the next page's rows to append."""
    filters = selectors.inbox_filters_from(request.GET)
    open_conversation_id = request_input.object_id(request.GET.get("open"), name="open")
    cursor = request.GET.get("cursor")
    if cursor:
        page = selectors.conversation_page(agent_id=request.user.pk, filters=filters, cursor=cursor)
        context = {"filters": filters, "page": page, "open_conversation_id": open_conversation_id}
        return render(request, "inbox/partials/conversation_rows.html", context)
    context = _list_context(request, filters, _members(request), open_conversation_id)
    return render(request, "inbox/partials/conversation_list.html", context)


@require_GET
def conversation_messages(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The messages after `after` (a reconnecting page catching up), as bubbles to append."""
    conversation = _conversation_or_404(conversation_id)
    after = request_input.whole_number(request.GET.get("after"), name="after", default=0)
    messages = selectors.thread_messages(conversation=conversation, after_id=after) if after else []
    return render(request, "inbox/partials/messages.html", {"thread": messages, "conversation": conversation})


@require_POST
def conversation_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A reply to the visitor, or a private note: returns its bubble (the socket brings it to the others)."""
    conversation = _conversation_or_404(conversation_id)
    try:
        message = services.message_from_agent(
            conversation=conversation,
            author=request.user,
            body=request.POST.get("body"),
            client_id=request.POST.get("client_id") or None,
            private=request.POST.get("kind") == "note",
        )
    except InboxError as exc:
        return render(request, "inbox/partials/composer_error.html", {"error": str(exc)}, status=422)
    message.author_user = request.user
    return render(
        request, "inbox/partials/messages.html", {"thread": [message], "conversation": conversation}
    )


def _pane_after_action(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    conversation = _conversation_or_404(conversation.pk)
    return render(
        request, "inbox/partials/conversation_pane.html", _pane_context(conversation, _members(request))
    )


@require_POST
def conversation_assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Assign to `me`, to a member's user id, or to nobody (empty)."""
    conversation = _conversation_or_404(conversation_id)
    choice = request.POST.get("assignee", "")
    if choice == "me":
        assignee = request.user
    elif choice:
        assignee = User.objects.filter(pk=request_input.object_id(choice, name="assignee")).first()
        if assignee is None:
            return HttpResponse("That person is not a member of this workspace.", status=422)
    else:
        assignee = None
    try:
        services.conversation_assign(conversation=conversation, assignee=assignee, by=request.user)
    except InboxError as exc:
        return HttpResponse(str(exc), status=422)
    return _pane_after_action(request, conversation)


SNOOZE_PRESETS = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
}


@require_POST
def conversation_status(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Open, pending, resolved, or snoozed (`snooze`: a preset like 1h, or a local date and time)."""
    conversation = _conversation_or_404(conversation_id)
    status = request.POST.get("status", "")
    snoozed_until = None
    if status == Conversation.Status.SNOOZED:
        snooze = request.POST.get("snooze", "")
        if snooze in SNOOZE_PRESETS:
            snoozed_until = timezone.now() + SNOOZE_PRESETS[snooze]
        else:
            try:
                local = request_input.moment(snooze, name="snooze")
            except request_input.InvalidInput:
                local = None
            if local is None:  # the form says what it needs, as for an absent one
                return HttpResponse("Choose when the conversation should come back.", status=422)
            snoozed_until = timezone.make_aware(local)
    try:
        services.conversation_status_set(
            conversation=conversation, status=status, by=request.user, snoozed_until=snoozed_until
        )
    except InboxError as exc:
        return HttpResponse(str(exc), status=422)
    return _pane_after_action(request, conversation)


@require_POST
def conversation_labels(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Add (on=1) or remove a label."""
    conversation = _conversation_or_404(conversation_id)
    label_id = request_input.object_id(request.POST.get("label"), name="label")
    label = Label.objects.filter(pk=label_id).first() if label_id else None
    if label is None:
        return HttpResponse("Unknown label.", status=422)
    services.conversation_label_set(
        conversation=conversation, label=label, on=request.POST.get("on") == "1", by=request.user
    )
    return _pane_after_action(request, conversation)


@require_GET
def canned_responses(request: HttpRequest) -> JsonResponse:
    """For the composer's / menu."""
    return JsonResponse(
        {"canned": [{"shortcut": c.shortcut, "body": c.body} for c in selectors.canned_responses()]}
    )


@require_POST
def conversation_priority(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation_or_404(conversation_id)
    try:
        priority = request_input.whole_number(
            request.POST.get("priority"), name="priority", maximum=max(Conversation.Priority.values)
        )
        services.conversation_priority_set(conversation=conversation, priority=priority, by=request.user)
    except (request_input.InvalidInput, InboxError):  # the service refuses an absent one (None) too
        return HttpResponse("Unknown priority.", status=422)
    return _pane_after_action(request, conversation)
