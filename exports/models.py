"""A workspace's data exports, in the public schema: requested by its owners or by staff, built by a job
(exports.tasks) into one ZIP file each, downloadable until they expire."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class WorkspaceExport(models.Model):
    """One export of a workspace's data: its job's state and progress, then its file until `expires_at`.

    Owners' exports and staff's are kept apart (`by_staff`): owners see and download theirs, staff see
    and download only exports staff asked for, each request written to the audit log, so no staff
    member gets a workspace's data without a reason on record. Of each side, at most one export per
    workspace is queued or running (a constraint), and a second request gets that one; builds of one
    workspace run one at a time (the job's lock). Progress counts rows written (conversations,
    messages, contacts, members) out of those there were when the build started.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"  # its file deleted, at expiry or when a newer export was ready

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    workspace = models.ForeignKey("tenants.Workspace", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_staff = models.BooleanField(default=False)  # from the staff console (and audited there)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    # Inside PARLEY_EXPORT_DIR; random, so that not even a listing of the folder names a workspace's file.
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # rows in each file, as in its manifest
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "by_staff"],
                condition=models.Q(status__in=["queued", "running"]),
                name="export_one_active_per_workspace",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-id"], name="export_workspace_idx"),
            # The expiry job's scan: only exports that still have a file.
            models.Index(fields=["expires_at"], name="export_expiry_idx", condition=models.Q(status="done")),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} of workspace {self.workspace_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        """How far the build is, 0 to 100; 99 at most until it is done (the settings are written last)."""
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(99, self.progress_done * 100 // self.progress_total)
