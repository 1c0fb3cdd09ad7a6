"""The staff console's pages, on the public host: the workspaces list and a workspace's page (where the
actions of staff/*_views.py send their answers)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from billing import plans
from billing.models import BillingAccount
from config import request_input
from staff import forms as staff_forms
from staff import selectors
from staff.permissions import staff_only
from staff.suspension_forms import suspension_context
from tenants.models import Workspace


@dataclass(frozen=True)
class SortLink:
    """A sortable column's header: the list sorted by it (the other way if it already is), and how
    it sorts the list now, for aria-sort."""

    label: str
    query: str  # the query string of the list sorted by this column, filters kept
    aria_sort: str | None  # "ascending" or "descending" on the column the list is sorted by


def _sort_links(filters: selectors.WorkspaceFilters) -> dict[str, SortLink]:
    links = {}
    for key, sort in selectors.SORTS.items():
        current = filters.sort_key == key
        descending = not filters.descending if current else sort.descending_first
        sorted_so = replace(filters, sort=f"{'-' if descending else ''}{key}")
        links[key] = SortLink(
            label=sort.label,
            query=urlencode(sorted_so.as_query()),
            aria_sort=("descending" if filters.descending else "ascending") if current else None,
        )
    return links


@staff_only  # first: anyone else gets a 404 whatever the method
@require_GET
def workspace_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.workspace_filters_from(request.GET)
    page = selectors.workspace_page(filters=filters, cursor=request.GET.get("cursor"))
    billing_on = plans.billing_enabled()
    sort_choices = selectors.sort_choices()
    context = {
        "filters": filters,
        "filter_query": urlencode(filters.as_query()),
        "page": page,
        "billing_on": billing_on,
        "column_count": 10 if billing_on else 8,
        "sort_links": _sort_links(filters),
        "plan_choices": [(plan.key, plan.name) for plan in plans.PLANS.values()],
        "status_choices": BillingAccount.Status.choices,
        "state_choices": selectors.WorkspaceState.choices,
        "sort_choices": sort_choices,
        "sort_description": dict(sort_choices)[filters.sort],
    }
    if request.htmx and request.htmx.target == "workspace-more":  # "More workspaces": the next rows
        return render(request, "staff/partials/workspace_rows.html", context)
    if request.htmx:  # the search and filters: the results
        return render(request, "staff/partials/workspace_results.html", context)
    context["total"] = selectors.claimed_workspace_count()
    return render(request, "staff/workspace_list.html", context)


@staff_only  # first: anyone else gets a 404 whatever the method
@require_GET
def workspace_detail(request: HttpRequest, workspace_id: int) -> HttpResponse:
    return workspace_page(request, workspace_id)


def workspace_page(
    request: HttpRequest, workspace_id: int, *, forms: dict | None = None, status: int = 200
) -> HttpResponse:
    """A workspace's page, with its action forms: blank, or (`forms`) the one that was just sent back
    with what was wrong (the console's action views answer bad input with this page and a 400)."""
    detail = selectors.workspace_detail(request_input.object_id(workspace_id, name="workspace"))
    if detail is None:
        raise Http404("No such workspace.")
    context = {
        "detail": detail,
        "billing_on": plans.billing_enabled(),
        "plan_override_form": staff_forms.PlanOverrideForm(),
        "plan_override_clear_form": staff_forms.PlanOverrideClearForm(),
        "trial_form": staff_forms.TrialExtendForm(),
        **suspension_context(),
        "failed": None,  # a member's action that went wrong: {"action", "member_id", "form"}
        **(forms or {}),
    }
    return render(request, "staff/workspace_detail.html", context, status=status)


def workspace_of(workspace_id: int) -> Workspace:
    """The claimed workspace an action's URL names; 404 for none (or a spare)."""
    workspace = selectors.claimed_workspace(request_input.object_id(workspace_id, name="workspace"))
    if workspace is None:
        raise Http404("No such workspace.")
    return workspace


def done(request: HttpRequest, workspace: Workspace, message: str) -> HttpResponse:
    """After an action: its outcome said on the workspace's page (POST, redirect, GET)."""
    messages.success(request, message)
    return redirect("staff_workspace", workspace.pk)
