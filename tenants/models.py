from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin


class Workspace(TenantMixin):
    """A customer's workspace. Its conversations live in its own schema, named `schema_name`.

    Schema names are opaque (`ws_<random>`), never the slug: spare schemas are migrated
    ahead of time and handed out at sign-up, and a rename never touches the schema.
    A row with `claimed_at` unset is such a spare: no domain, no members, not a workspace yet.
    """

    name = models.CharField(max_length=80, blank=True)
    slug = models.SlugField(max_length=40, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set by staff (staff.services): a suspended workspace's pages, sockets, API and webhook deliveries
    # stop until it is unsuspended; nothing in it is deleted.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True, default="")
    # Set when staff delete it: it is suspended at once and its schema dropped by a job at this time
    # (PARLEY_DELETE_GRACE_DAYS later); until then staff can restore it.
    deletion_due_at = models.DateTimeField(null=True, blank=True)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], name="workspace_spare_idx", condition=models.Q(claimed_at__isnull=True)
            ),
            # The staff list (staff.selectors.workspace_page): claimed workspaces newest or oldest
            # first, and by name, a page at a time from a cursor; and the suspended ones, few among
            # many (with the time a deleted one's schema is due to be dropped).
            models.Index(
                fields=["claimed_at", "id"],
                name="workspace_claimed_idx",
                condition=models.Q(claimed_at__isnull=False),
            ),
            models.Index(
                Lower("name"), "id", name="workspace_name_idx", condition=models.Q(claimed_at__isnull=False)
            ),
            models.Index(
                fields=["deletion_due_at"],
                name="workspace_suspended_idx",
                condition=models.Q(suspended_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"(spare {self.schema_name})"

    @property
    def is_spare(self) -> bool:
        return self.claimed_at is None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def deletion_is_due(self) -> bool:
        """Its deletion's grace period is over: too late to restore it, the job drops it next."""
        return self.deletion_due_at is not None and self.deletion_due_at <= timezone.now()


class Domain(DomainMixin):
    """A host name that routes to a workspace, e.g. `acme.localhost`."""


class Membership(models.Model):
    """Grants a user access to a workspace with a role."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        AGENT = "agent", "Agent"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_manage_workspace(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.ADMIN)


class WorkspaceHandoff(models.Model):
    """A one-time, short-lived link that logs a user into a workspace's host.

    Sessions stay on the host that created them (no cookie shared across subdomains), so a
    user who signs up or switches workspace is carried over by this link. Only its hash is kept.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"handoff of {self.user_id} to {self.workspace_id}"


class SiteKey(models.Model):
    """Public lookup from a widget's site key to its workspace and website (which lives in that schema)."""

    key = models.CharField(max_length=64, unique=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="site_keys")
    website_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "website_id"], name="site_key_unique_website")
        ]

    def __str__(self) -> str:
        return self.key


class Invitation(models.Model):
    """An email invitation to join a workspace with a role: a signed link, valid for a week, once.
    Only the token's hash is kept."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.AGENT)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.workspace}"


class WorkspaceActivity(models.Model):
    """What happened in one workspace in one hour, kept in the public schema so that the staff console
    and the platform's health read every workspace's activity without a query into each schema.

    Rows are added to by the write paths (an `INSERT ... ON CONFLICT DO UPDATE` adding to the counts),
    in the transaction of what they count. `hour` is the start of the hour, in UTC.
    """

    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique index leads
    )
    hour = models.DateTimeField()
    conversations = models.PositiveIntegerField(default=0)  # conversations started
    messages = models.PositiveIntegerField(default=0)  # messages written, by visitors and by agents
    deliveries = models.PositiveIntegerField(default=0)  # webhook delivery attempts that ended
    delivery_failures = models.PositiveIntegerField(default=0)  # of those, the ones that failed
    last_at = models.DateTimeField()  # the latest thing counted in this hour

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "hour"], name="workspace_activity_unique_hour")
        ]
        indexes = [models.Index(fields=["hour"], name="workspace_activity_hour_idx")]

    def __str__(self) -> str:
        return f"{self.workspace_id} at {self.hour:%Y-%m-%d %H:00}"


class WorkspaceStats(models.Model):
    """One workspace's figures for the staff console's list, computed from its WorkspaceActivity by a
    periodic job (tenants.activity.workspace_stats_refresh), so that the list reads, sorts and filters
    them in its one query. A workspace with no activity yet has no row: the list reads that as zeros.

    The windows are whole hours: "7 days" and "24 hours" add up the hours that started within them,
    "this month" the hours since the first of the month (UTC)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    conversations_month = models.PositiveIntegerField(default=0)
    messages_7d = models.PositiveIntegerField(default=0)
    deliveries_24h = models.PositiveIntegerField(default=0)  # webhook delivery attempts that ended
    delivery_failures_24h = models.PositiveIntegerField(default=0)
    # delivery_failures_24h / deliveries_24h, kept so the list sorts by it; None without deliveries.
    failure_rate_24h = models.FloatField(null=True)
    last_activity_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField()  # the time these figures are as of

    def __str__(self) -> str:
        return f"stats of {self.workspace_id}"
