"""Conversations: the agents' actions (assign, status, priority, labels, read) and Parley's own
(round-robin assignment, waking snoozed ones, a member leaving, the workspace suspended). Each locks
the contact first, as every write of its conversations does, and records what it did as a system
event in the thread."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from inbox import realtime
from inbox.exceptions import AssigneeNotMember, ConversationActionInvalid
from inbox.models import Contact, Conversation, InboxSettings, Label
from inbox.services.messages import system_event
from tenants.context import workspace_schema
from tenants.models import Membership, Workspace
from webhooks.services import event_record


def _locked(conversation: Conversation) -> Conversation:
    Contact.objects.select_for_update().filter(pk=conversation.contact_id).first()
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _is_member(user_id: int) -> bool:
    return Membership.objects.filter(workspace__schema_name=connection.schema_name, user_id=user_id).exists()


def conversation_assign(
    *, conversation: Conversation, assignee: User | None, by: User | None
) -> Conversation:
    """Give the conversation to `assignee` (None: nobody), who must be a member of this workspace
    now; `by` None is Parley's round robin."""
    if assignee is not None and not _is_member(assignee.pk):
        raise AssigneeNotMember("That person is not a member of this workspace.")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.assignee_id == (assignee.pk if assignee else None):
            return conversation
        conversation.assignee_id = assignee.pk if assignee else None
        conversation.save(update_fields=["assignee", "updated_at"])
        if assignee is None:
            text = f"{by.name if by else 'Parley'} unassigned this conversation"
        elif by is None:
            text = f"Parley assigned this to {assignee.name} (round robin)"
        elif assignee.pk == by.pk:
            text = f"{by.name} took this conversation"
        else:
            text = f"{by.name} assigned this to {assignee.name}"
        system_event(conversation=conversation, by=by, text=text)
        event_record("conversation.updated", "conversation", conversation.pk, changed=["assignee"])
    return conversation


def conversation_status_set(
    *, conversation: Conversation, status: str, by: User | None, snoozed_until=None
) -> Conversation:
    """Open, set pending, resolve, or snooze until a time (it reopens by itself then)."""
    if status not in Conversation.Status.values:
        raise ConversationActionInvalid(f"Unknown status “{str(status)[:20]}”.")
    if status == Conversation.Status.SNOOZED and (snoozed_until is None or snoozed_until <= timezone.now()):
        raise ConversationActionInvalid("Snooze until a time in the future.")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == status and conversation.snoozed_until == snoozed_until:
            return conversation
        conversation.status = status
        conversation.snoozed_until = snoozed_until if status == Conversation.Status.SNOOZED else None
        conversation.resolved_at = timezone.now() if status == Conversation.Status.RESOLVED else None
        conversation.save(update_fields=["status", "snoozed_until", "resolved_at", "updated_at"])
        who = by.name if by else "Parley"
        text = {
            Conversation.Status.OPEN: f"{who} reopened this conversation",
            Conversation.Status.PENDING: f"{who} set this conversation to pending",
            Conversation.Status.RESOLVED: f"{who} resolved this conversation",
            Conversation.Status.SNOOZED: f"{who} snoozed this conversation until "
            + (timezone.localtime(snoozed_until).strftime("%b %-d, %H:%M") if snoozed_until else ""),
        }[status]
        system_event(conversation=conversation, by=by, text=text)
        event_record("conversation.updated", "conversation", conversation.pk, changed=["status"])
        if status == Conversation.Status.RESOLVED:
            event_record("conversation.resolved", "conversation", conversation.pk)
    return conversation


def conversation_priority_set(*, conversation: Conversation, priority: int, by: User) -> Conversation:
    if priority not in Conversation.Priority.values:
        raise ConversationActionInvalid("Unknown priority.")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.priority == priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority", "updated_at"])
        label = Conversation.Priority(priority).label.lower()
        system_event(conversation=conversation, by=by, text=f"{by.name} set the priority to {label}")
        event_record("conversation.updated", "conversation", conversation.pk, changed=["priority"])
    return conversation


def conversation_mark_read(*, conversation: Conversation) -> None:
    """An agent opened it: nothing in it is unread any more."""
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0
        realtime.publish_on_commit(
            [realtime.agents_group(realtime.current_schema())],
            {"type": "conversation.changed", "conversation_id": conversation.pk},
        )


def conversations_unassign_member(*, user_id: int, by: User) -> int:
    """Someone left the workspace: whatever they had open goes back to the unassigned queue."""
    unassigned = 0
    for conversation in Conversation.objects.filter(assignee_id=user_id).exclude(
        status=Conversation.Status.RESOLVED
    ):
        conversation_assign(conversation=conversation, assignee=None, by=by)
        unassigned += 1
    return unassigned


def member_removed(*, workspace: Workspace, user: User, by: User) -> None:
    """tenants.hooks.member_removed: what they had open goes back to the queue, and every inbox they
    have open on the workspace closes once the removal commits."""
    with workspace_schema(workspace.schema_name):
        conversations_unassign_member(user_id=user.pk, by=by)
    realtime.publish_on_commit(
        [realtime.member_group(workspace.schema_name, user.pk)], {"type": "membership.revoked"}
    )


def account_taken_back(*, user: User, workspaces: list[Workspace]) -> dict:
    """tenants.hooks.account_taken_back: every inbox the account has open, on any workspace, closes
    once the take-back commits."""
    realtime.publish_on_commit(
        [realtime.member_group(workspace.schema_name, user.pk) for workspace in workspaces],
        {"type": "session.ended"},
    )
    return {}


def workspace_suspended(*, workspace: Workspace) -> None:
    """tenants.hooks.workspace_suspended: once the suspension commits, every inbox and every widget
    socket and waiting long-poll open on the workspace is told, and closes (it could not be used)."""
    realtime.publish_on_commit(
        [realtime.agents_group(workspace.schema_name), realtime.widgets_group(workspace.schema_name)],
        {"type": "workspace.suspended"},
    )


def conversations_wake_snoozed() -> int:
    """Reopen every snoozed conversation whose time has come (the worker runs it every minute)."""
    woken = 0
    for conversation in Conversation.objects.filter(
        status=Conversation.Status.SNOOZED, snoozed_until__lte=timezone.now()
    ):
        conversation_status_set(conversation=conversation, status=Conversation.Status.OPEN, by=None)
        woken += 1
    return woken


def conversation_label_set(*, conversation: Conversation, label: Label, on: bool, by: User) -> Conversation:
    """Add (`on`) or remove a label, as a system event in the thread."""
    with transaction.atomic():
        conversation = _locked(conversation)
        has = conversation.labels.filter(pk=label.pk).exists()
        if has == on:
            return conversation
        if on:
            conversation.labels.add(label)
        else:
            conversation.labels.remove(label)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
        verb = "added the label" if on else "removed the label"
        system_event(conversation=conversation, by=by, text=f"{by.name} {verb} {label.name}")
        event_record("conversation.updated", "conversation", conversation.pk, changed=["labels"])
    return conversation


def conversation_auto_assign(
    *, conversation_id: int, online_user_ids: set[int], away_user_ids: set[int]
) -> User | None:
    """Give a new conversation to the next agent in turn among those online, not away, and under
    the workspace's limit of open conversations; nobody if auto-assignment is off or no one fits."""

    with transaction.atomic():
        current = InboxSettings.objects.select_for_update().filter(pk=InboxSettings.current().pk).first()
        if not current.auto_assign:
            return None
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None:
            return None
        conversation = _locked(conversation)
        if conversation.assignee_id is not None or conversation.status == Conversation.Status.RESOLVED:
            return None
        members = set(
            Membership.objects.filter(workspace__schema_name=connection.schema_name).values_list(
                "user_id", flat=True
            )
        )
        candidates = sorted((online_user_ids & members) - away_user_ids)
        loads = dict(
            Conversation.objects.filter(assignee_id__in=candidates, status=Conversation.Status.OPEN)
            .values_list("assignee_id")
            .annotate(n=Count("id"))
        )
        eligible = [user_id for user_id in candidates if loads.get(user_id, 0) < current.auto_assign_limit]
        if not eligible:
            return None
        after = [user_id for user_id in eligible if user_id > (current.last_auto_assignee_id or 0)]
        chosen = User.objects.get(pk=(after or eligible)[0])
        current.last_auto_assignee_id = chosen.pk
        current.save(update_fields=["last_auto_assignee_id"])
        conversation_assign(conversation=conversation, assignee=chosen, by=None)
    return chosen
