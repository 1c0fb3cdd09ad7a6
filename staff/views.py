"""The staff console's pages, on the public host: the workspaces list and a workspace's page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing import plans
from billing.models import BillingAccount
from config import request_input
from staff import selectors
from staff.permissions import staff_only
from staff.suspension_forms import suspension_context


@staff_only  # first: anyone else gets a 404 whatever the method
@require_GET
def workspace_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.workspace_filters_from(request.GET)
    page = selectors.workspace_page(filters=filters, cursor=request.GET.get("cursor"))
    context = {
        "filters": filters,
        "filter_query": urlencode(filters.as_query()),
        "page": page,
        "billing_on": plans.billing_enabled(),
        "plan_choices": [(plan.key, plan.name) for plan in plans.PLANS.values()],
        "status_choices": BillingAccount.Status.choices,
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
    detail = selectors.workspace_detail(request_input.object_id(workspace_id, name="workspace"))
    if detail is None:
        raise Http404("No such workspace.")
    return render(
        request,
        "staff/workspace_detail.html",
        {"detail": detail, "billing_on": plans.billing_enabled(), **suspension_context()},
    )
