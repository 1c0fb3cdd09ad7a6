"""The team of a workspace: members, roles, invitations (owners and admins), and accepting one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.adapter import AFTER_EMAIL_PROOF_SESSION_KEY
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
        membership = services.membership_role_set(
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
    """The link in the email, on the workspace's host. New here: create an account with the invited
    address (the link proves it) and join. An account already has the address: log in first (or reset
    the password through the address). Logged in: join, once the account has proven the address."""
    workspace = request.workspace
    try:
        invitation = services.invitation_for_token(raw_token=token, workspace=workspace)
    except WorkspaceError as exc:
        return render(request, "workspace/invitation.html", {"error": str(exc)}, status=410)
    user = request.user if request.user.is_authenticated else None
    existing = None if user else account_selectors.account_for_address(invitation.email)
    form = InviteeSignupForm(request.POST or None) if user is None and existing is None else None
    if request.method == "POST" and form is not None and form.is_valid():
        user = account_services.account_create_with_proven_address(
            email=invitation.email,
            password=form.cleaned_data["password"],
            display_name=form.cleaned_data["name"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    proven = user is not None and account_selectors.address_is_proven(user=user, email=invitation.email)
    if request.method == "POST" and proven:
        try:
            services.invitation_accept(raw_token=token, workspace=workspace, user=user)
        except WorkspaceError as exc:
            return render(request, "workspace/invitation.html", {"error": str(exc)}, status=410)
        messages.success(request, f"Welcome to {workspace.name}.")
        return redirect("inbox")
    has_address = user is not None and user.emailaddress_set.filter(email__iexact=invitation.email).exists()
    if user is not None and not proven:
        # Back here once the address is proven (accounts.adapter).
        request.session[AFTER_EMAIL_PROOF_SESSION_KEY] = request.path
    return render(
        request,
        "workspace/invitation.html",
        {
            "invitation": invitation, "form": form, "existing": existing, "workspace": workspace,
            "proven": proven, "has_address": has_address,
        },
    )  # fmt: skip
