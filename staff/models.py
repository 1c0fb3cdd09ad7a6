"""The staff console's audit log, in the public schema: what the people who run Parley did, and why."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEntry(models.Model):
    """One staff action: who, what, to which workspace, why, and the state before and after it.

    Written only by `staff.services.audit_record`, exactly once per action, in the action's own
    transaction. The workspace's slug and name and the staff user's email are copied into the row, so
    the trail still reads after either is renamed or deleted (the foreign keys then become null).
    """

    class Action(models.TextChoices):
        STAFF_GRANT = "staff_grant", "Staff access granted"
        SUSPEND = "suspend", "Suspended"
        UNSUSPEND = "unsuspend", "Unsuspended"
        PLAN_OVERRIDE = "plan_override", "Plan overridden"
        TRIAL_EXTEND = "trial_extend", "Trial extended"
        VERIFICATION_RESEND = "verification_resend", "Verification email sent again"
        EXPORT = "export", "Export requested"
        DELETE = "delete", "Deletion scheduled"
        RESTORE = "restore", "Restored from deletion"
        SCHEMA_DROP = "schema_drop", "Schema dropped after the grace period"
        IMPERSONATE_START = "impersonate_start", "Impersonation started"
        IMPERSONATE_PAGE = "impersonate_page", "Page visited while impersonating"
        IMPERSONATE_STOP = "impersonate_stop", "Impersonation ended"

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Empty for an action taken from the command line (manage.py create_staff), with no staff user.
    staff_email = models.EmailField(blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    workspace = models.ForeignKey(
        "tenants.Workspace",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # audit_workspace_idx starts with it
    )
    workspace_slug = models.CharField(max_length=40, blank=True)
    workspace_name = models.CharField(max_length=80, blank=True)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # A workspace's trail, newest first (the detail page), and the whole log by time.
            models.Index(fields=["workspace", "-created_at", "-id"], name="audit_workspace_idx"),
            models.Index(fields=["-created_at", "-id"], name="audit_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.staff_email or 'the command line'}"

    def changes(self) -> list[tuple[str, object, object]]:
        """(name, before, after) of each value the action changed, in the order the action wrote them."""
        names = dict.fromkeys([*self.before, *self.after])
        return [
            (name, self.before.get(name), self.after.get(name))
            for name in names
            if self.before.get(name) != self.after.get(name)
        ]


class ImpersonationSession(models.Model):
    """A staff user viewing a workspace as one of its members, for support: read-only, for at most
    staff.services.IMPERSONATION_LONGEST, ended by Stop or by time.

    Sessions stay on the host that made them, so staff start on the console (public host) and are
    carried to the workspace's host by a one-time link, whose hash is kept here; spending it there logs
    that host's session in as the member, with a marker naming this row (staff.middleware), which
    every request of that session is checked against.
    """

    class EndCause(models.TextChoices):
        STOPPED = "stopped", "Stopped"
        EXPIRED = "expired", "Time ran out"
        REVOKED = "revoked", "Staff access ended"

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey("tenants.Workspace", on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    handoff_token_hash = models.CharField(max_length=64, unique=True)
    handoff_expires_at = models.DateTimeField()
    handoff_used_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_cause = models.CharField(max_length=10, choices=EndCause.choices, blank=True)

    def __str__(self) -> str:
        return f"{self.staff_id} as {self.member_id} in {self.workspace_id}"

    def is_active(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at
