"""Workspace settings of the inbox: labels, canned responses and automatic assignment. Owners and
admins only."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from config import request_input
from inbox import selectors, services
from inbox.exceptions import InboxError
from inbox.models import CannedResponse, InboxSettings, Label
from tenants.permissions import managers_only


@managers_only
def inbox_settings(request: HttpRequest) -> HttpResponse:
    """Labels and canned responses on one page."""
    return render(
        request,
        "inbox/inbox_settings.html",
        {
            "labels": selectors.labels_of_workspace(),
            "canned": selectors.canned_responses(),
            "assignment": InboxSettings.current(),
        },
    )


@require_POST
@managers_only
def label_create(request: HttpRequest) -> HttpResponse:
    try:
        label = services.label_create(name=request.POST.get("name", ""), color=request.POST.get("color", ""))
    except InboxError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Label “{label.name}” added.")
    return redirect("inbox_settings")


@require_POST
@managers_only
def label_delete(request: HttpRequest, label_id: int) -> HttpResponse:
    label = Label.objects.filter(pk=label_id).first()
    if label is None:
        raise Http404("No such label.")
    services.label_delete(label=label)
    messages.success(request, f"Label “{label.name}” deleted.")
    return redirect("inbox_settings")


@require_POST
@managers_only
def canned_response_create(request: HttpRequest) -> HttpResponse:
    try:
        canned = services.canned_response_create(
            shortcut=request.POST.get("shortcut", ""), body=request.POST.get("body", "")
        )
    except InboxError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Canned response {canned} added.")
    return redirect("inbox_settings")


@require_POST
@managers_only
def canned_response_delete(request: HttpRequest, canned_id: int) -> HttpResponse:
    canned = CannedResponse.objects.filter(pk=canned_id).first()
    if canned is None:
        raise Http404("No such canned response.")
    services.canned_response_delete(canned_response=canned)
    messages.success(request, f"Canned response {canned} deleted.")
    return redirect("inbox_settings")


@require_POST
@managers_only
def assignment_update(request: HttpRequest) -> HttpResponse:
    try:
        services.inbox_settings_update(
            auto_assign=request.POST.get("auto_assign") == "on",
            auto_assign_limit=request_input.whole_number(
                request.POST.get("auto_assign_limit"), name="The limit", default=0
            ),
        )
    except request_input.InvalidInput:
        messages.error(request, "The limit is a number.")  # the service says which ones it takes
    except InboxError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Assignment settings saved.")
    return redirect("inbox_settings")
