"""The team of a workspace: members, roles, invitations (owners and admins), and accepting one."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from tenants import selectors, services
from tenants.exceptions import WorkspaceError
from tenants.forms import InvitationForm, InviteeSignupForm
from tenants.models import Invitation, Membership
from tenants.permissions import managers_only


@managers_only
def team(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                workspace=request.workspace, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], by=request.membership,
            )  # fmt: skip
        except WorkspaceError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("team")
    pending = Invitation.objects.filter(
        workspace=request.workspace, accepted_at__isnull=True, revoked_at__isnull=True
    ).order_by("-created_at")
    return render(
        request,
        "workspace/team.html",
        {
            "form": form,
            "members": selectors.members_of_workspace(workspace=request.workspace),
            "pending": pending,
            "roles": Membership.Role.choices,
            "now": timezone.now(),
        },
    )


def _member_or_404(request: HttpRequest, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, workspace=request.workspace
    )


@require_POST
@managers_only
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _member_or_404(request, membership_id)
    try:
        services.membership_role_set(
            membership=membership, role=request.POST.get("role", ""), by=request.membership
        )
    except WorkspaceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.name} is now {membership.get_role_display().lower()}.")
    return redirect("team")


@require_POST
@managers_only
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _member_or_404(request, membership_id)
    if membership.role == Membership.Role.OWNER and request.membership.role != Membership.Role.OWNER:
        messages.error(request, "Only an owner can remove an owner.")
        return redirect("team")
    try:
        services.membership_remove(membership=membership, by=request.user)
    except WorkspaceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{membership.user.name} was removed; their open conversations are unassigned."
        )
    return redirect("team")


@require_POST
@managers_only
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace=request.workspace)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"The invitation of {invitation.email} was withdrawn.")
    return redirect("team")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the email, on the workspace's host. Logged in: join. New here: create an account
    with the invited email (the link proves it is theirs) and join. Known email: log in first."""
    workspace = request.workspace
    try:
        invitation = services.invitation_for_token(raw_token=token, workspace=workspace)
    except WorkspaceError as exc:
        return render(request, "workspace/invitation.html", {"error": str(exc)}, status=410)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    form = (
        InviteeSignupForm(request.POST or None)
        if not request.user.is_authenticated and not existing
        else None
    )
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        if user is None and form is not None and form.is_valid():
            with transaction.atomic():
                user = User.objects.create_user(invitation.email, form.cleaned_data["password"])
                user.display_name = form.cleaned_data["name"]
                user.save(update_fields=["display_name"])
                EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if user is not None:
            try:
                services.invitation_accept(raw_token=token, workspace=workspace, user=user)
            except WorkspaceError as exc:
                return render(request, "workspace/invitation.html", {"error": str(exc)}, status=410)
            messages.success(request, f"Welcome to {workspace.name}.")
            return redirect("inbox")
    return render(
        request,
        "workspace/invitation.html",
        {"invitation": invitation, "form": form, "existing": existing, "workspace": workspace},
    )
