"""The export panel's context, one for the owner's settings page and the staff console's workspace page:
the same partial (templates/exports/partials/export_panel.html) renders in both, full page or htmx swap."""

from __future__ import annotations

from django.conf import settings

from exports import selectors
from tenants.models import Workspace


def panel_context(*, workspace: Workspace, for_staff: bool, error: str = "") -> dict:
    return {
        "panel": selectors.export_panel(workspace=workspace, by_staff=for_staff),
        "export_workspace": workspace,
        "for_staff": for_staff,
        "error": error,
        "keep_days": settings.PARLEY_EXPORT_KEEP_DAYS,
    }
