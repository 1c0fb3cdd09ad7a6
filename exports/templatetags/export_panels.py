"""{% export_panel workspace %}: the export panel inside a page whose view belongs to a lower layer (the
workspace settings page, tenants.views) or to another app (the staff console's workspace page)."""

from __future__ import annotations

from django import template

from exports.panels import panel_context

register = template.Library()


@register.inclusion_tag("exports/partials/export_panel.html", takes_context=True)
def export_panel(context, workspace, for_staff: bool = False) -> dict:
    # An inclusion tag renders in a context of its own: the form needs the page's CSRF token.
    return {
        **panel_context(workspace=workspace, for_staff=for_staff),
        "csrf_token": context.get("csrf_token"),
    }
