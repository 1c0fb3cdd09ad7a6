"""The audit log in Django's admin: read-only, like everywhere else (only audit_record writes it)."""

from __future__ import annotations

from django.contrib import admin

from staff.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "staff_email", "workspace_slug", "reason"]
    list_filter = ["action"]
    search_fields = ["staff_email", "workspace_slug", "workspace_name", "reason"]
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
