"""The console's billing actions on a workspace: override its plan (or end the override), extend its
trial. Each is a POST from the workspace's page, answered with that page: its outcome said, or the form
back with what was wrong (400)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from billing import plans
from staff import forms, services
from staff.permissions import staff_only
from staff.views import done, workspace_of, workspace_page


@staff_only  # first: anyone else gets a 404 whatever the method
@require_POST
def plan_override(request: HttpRequest, workspace_id: int) -> HttpResponse:
    workspace = workspace_of(workspace_id)
    form = forms.PlanOverrideForm(request.POST)
    if form.is_valid():
        until = form.cleaned_data["until"]
        try:
            change = services.plan_override_set(
                staff=request.user, workspace=workspace, plan_key=form.cleaned_data["plan"],
                until=forms.day_start(until) if until else None, reason=form.cleaned_data["reason"],
                ip_address=request.META.get("REMOTE_ADDR"),
            )  # fmt: skip
        except services.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            ends = f" until {until:%-d %B %Y}" if until else " until the override is ended"
            plan = plans.plan_for_key(change.after["plan_in_force"]).name
            return done(request, workspace, f"{workspace.name} is on {plan}{ends}.")
    return workspace_page(request, workspace.pk, forms={"plan_override_form": form}, status=400)


@staff_only  # first: anyone else gets a 404 whatever the method
@require_POST
def plan_override_clear(request: HttpRequest, workspace_id: int) -> HttpResponse:
    workspace = workspace_of(workspace_id)
    form = forms.PlanOverrideClearForm(request.POST)
    if form.is_valid():
        try:
            change = services.plan_override_clear(
                staff=request.user, workspace=workspace, reason=form.cleaned_data["reason"],
                ip_address=request.META.get("REMOTE_ADDR"),
            )  # fmt: skip
        except services.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            plan = plans.plan_for_key(change.after["plan_in_force"]).name
            return done(request, workspace, f"The override has ended: {workspace.name} is on {plan}.")
    return workspace_page(request, workspace.pk, forms={"plan_override_clear_form": form}, status=400)


@staff_only  # first: anyone else gets a 404 whatever the method
@require_POST
def trial_extend(request: HttpRequest, workspace_id: int) -> HttpResponse:
    workspace = workspace_of(workspace_id)
    form = forms.TrialExtendForm(request.POST)
    if form.is_valid():
        until = form.cleaned_data["until"]
        try:
            change = services.trial_extend(
                staff=request.user, workspace=workspace, until=forms.day_start(until),
                plan_key=form.cleaned_data["plan"], reason=form.cleaned_data["reason"],
                ip_address=request.META.get("REMOTE_ADDR"),
            )  # fmt: skip
        except services.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            where = "in Stripe" if change.after["trial"] == "stripe" else "here (no Stripe subscription)"
            return done(request, workspace, f"The trial runs until {until:%-d %B %Y}, {where}.")
    return workspace_page(request, workspace.pk, forms={"trial_form": form}, status=400)
