"""The console's actions on one member of a workspace: the mail that tells them how to prove their
address, sent again. (Impersonating a member: staff/impersonation_views.py.)"""

from __future__ import annotations

from allauth.core import ratelimit
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from accounts.models import User
from staff import forms, services
from staff.permissions import staff_only
from staff.views import done, workspace_of, workspace_page

# allauth's rate limits, with its others in ACCOUNT_RATE_LIMITS: per member address and per staff user.
RESEND_RATE_ACTION = "staff_verification_resend"


def member_failed(
    request: HttpRequest, workspace_id: int, *, action: str, form, message: str = ""
) -> HttpResponse:
    """The workspace's page with what went wrong, next to the member's action (400)."""
    if message:
        form.add_error(None, message)
    member_id = form.cleaned_data.get("member") if hasattr(form, "cleaned_data") else None
    failed = {"action": action, "member_id": member_id, "form": form}
    return workspace_page(request, workspace_id, forms={"failed": failed}, status=400)


@staff_only  # first: anyone else gets a 404 whatever the method
@require_POST
def verification_resend(request: HttpRequest, workspace_id: int) -> HttpResponse:
    workspace = workspace_of(workspace_id)
    form = forms.MemberForm(request.POST)
    if not form.is_valid():
        return member_failed(request, workspace.pk, action="resend", form=form, message="Choose a member.")
    member = User.objects.filter(pk=form.cleaned_data["member"]).first()
    if member is None:
        return member_failed(request, workspace.pk, action="resend", form=form, message="No such member.")
    if not ratelimit.consume(request, action=RESEND_RATE_ACTION, key=member.email.lower(), dry_run=True):
        message = "That mail went out a moment ago: give it a few minutes before sending it again."
        return member_failed(request, workspace.pk, action="resend", form=form, message=message)
    try:
        email = services.verification_resend(
            staff=request.user, workspace=workspace, member=member, ip_address=request.META.get("REMOTE_ADDR")
        )
    except services.StaffError as exc:
        return member_failed(request, workspace.pk, action="resend", form=form, message=str(exc))
    ratelimit.consume(request, action=RESEND_RATE_ACTION, key=member.email.lower())
    return done(request, workspace, f"{email} was sent how to prove their address again.")
