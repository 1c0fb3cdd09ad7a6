"""Impersonating a member, on the console's side: staff start here (a required reason; their own
two-factor authentication passed, by staff_only) and are carried to the workspace's host by a one-time
link. What happens there: staff/impersonation_host_views.py and staff.middleware."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST

from accounts.models import User
from staff import forms, services
from staff.member_views import member_failed
from staff.permissions import staff_only
from staff.views import workspace_of


@staff_only  # first: anyone else gets a 404 whatever the method
@require_POST
def impersonation_start(request: HttpRequest, workspace_id: int) -> HttpResponse:
    workspace = workspace_of(workspace_id)
    form = forms.ImpersonationForm(request.POST)
    if not form.is_valid():
        return member_failed(request, workspace.pk, action="impersonate", form=form)
    member = User.objects.filter(pk=form.cleaned_data["member"]).first()
    if member is None:
        return member_failed(
            request, workspace.pk, action="impersonate", form=form, message="No such member."
        )
    try:
        _, url = services.impersonation_start(
            staff=request.user, workspace=workspace, member=member, reason=form.cleaned_data["reason"],
            ip_address=request.META.get("REMOTE_ADDR"),
        )  # fmt: skip
    except services.StaffError as exc:
        return member_failed(request, workspace.pk, action="impersonate", form=form, message=str(exc))
    return HttpResponseRedirect(url)
