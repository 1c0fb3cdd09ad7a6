"""Writes for people's own accounts."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest

from accounts import selectors
from accounts.models import User
from mail import gateway
from tenants import app_settings


def profile_update(*, user: User, display_name: str) -> User:
    """The name visitors and colleagues see (and the avatar's initials)."""
    user.display_name = " ".join(display_name.split())[:80]
    user.save(update_fields=["display_name"])
    return user


def email_address_proven(*, request: HttpRequest | None, email_address: EmailAddress) -> bool:
    """Someone has just proven they read `email_address`'s mail (a code or a password reset sent there).

    Until the address an account was made with is proven, whoever made the account may not be that
    address's owner (account pre-hijacking). So when that address is proven from anywhere but the
    maker's own sign-up or login, which needed the password, the prover gets an account nobody else
    can still reach. Returns whether the account was taken back that way.
    """
    user = User.objects.get(pk=email_address.user_id)
    # Whoever still had this address unproven on another account never owned it.
    EmailAddress.objects.filter(email__iexact=email_address.email, verified=False).exclude(
        user_id=user.pk
    ).delete()
    if email_address.email.lower() != (user.signup_email or user.email).lower():
        return False
    if request is not None and _in_own_login(request, user):
        return False
    account_take_back(user=user, email=email_address.email, keep_session_of=request)
    return True


def _in_own_login(request: HttpRequest, user: User) -> bool:
    """Whether `request` is this account's own sign-up or login, waiting for its emailed code: the
    same browser session gave the account's password a moment ago."""
    from allauth.account.internal.stagekit import unstash_login

    if request.user.is_authenticated:
        return False
    login = unstash_login(request, peek=True)
    return login is not None and login.user is not None and login.user.pk == user.pk


def account_take_back(*, user: User, email: str, keep_session_of: HttpRequest | None = None) -> dict:
    """Leave `user` reachable through `email` alone: other addresses removed, the password cleared
    (every session with it ends), pending sign-in links spent, and, by the apps above through
    tenants.hooks.account_taken_back, API keys revoked and open inbox sockets closed; and tell `email`
    what was done and which workspaces the account is in. Returns that."""
    from tenants import hooks
    from tenants.models import Membership, WorkspaceHandoff

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        others = list(
            EmailAddress.objects.filter(user=user)
            .exclude(email__iexact=email)
            .values_list("email", flat=True)
        )
        EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
        EmailAddress.objects.filter(user=user, email__iexact=email).update(primary=True, verified=True)
        user.email = user.signup_email = email.lower()
        # A new session hash: Django ends every session made with the old one at its next request.
        user.set_unusable_password()
        user.save(update_fields=["email", "signup_email", "password"])
        WorkspaceHandoff.objects.filter(user=user, used_at__isnull=True).delete()
        memberships = list(Membership.objects.filter(user=user).select_related("workspace"))
        removed = {"addresses": others, "api_keys": 0}
        for taken in hooks.account_taken_back(user=user, workspaces=[m.workspace for m in memberships]):
            removed.update(taken)
    if keep_session_of is not None and keep_session_of.user.pk == user.pk:
        update_session_auth_hash(keep_session_of, user)  # the prover stays signed in here
    removed["workspaces"] = [f"{m.workspace.name} ({m.get_role_display().lower()})" for m in memberships]
    _send_taken_back_mail(email=email, removed=removed)
    return removed


def _send_taken_back_mail(*, email: str, removed: dict) -> None:
    gateway.send(
        "account_taken_back",
        to=email,
        context={"removed": removed, "reset_url": app_settings.public_url("/accounts/password/reset/")},
    )


def account_create_with_proven_address(*, email: str, password: str | None, display_name: str = "") -> User:
    """An account for someone who has proven `email` (an invitation link reached them), or whom an
    operator vouches for (manage.py create_staff). No password (None): they set one by a reset."""
    with transaction.atomic():
        user = User.objects.create_user(email, password, display_name=" ".join(display_name.split())[:80])
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        EmailAddress.objects.filter(email__iexact=user.email, verified=False).exclude(user=user).delete()
    return user


class AddressAlreadyProven(Exception):
    """The account has proven its address already: there is nothing left to verify."""


def address_proof_remind(*, user: User, workspace_name: str) -> str:
    """Mail an account whose address is not proven yet how to prove it; returns the address mailed.

    Not a code: Parley proves addresses by allauth's emailed codes, and a code works only in the
    browser session that asked for it (config/settings/base.py says why), so one sent from here would
    reach nobody's session. The mail sends its reader into that same flow instead: logging in with
    the account's password makes allauth mail a fresh code at once (ACCOUNT_EMAIL_VERIFICATION is
    mandatory), and a password reset's code proves the address as well."""
    if selectors.address_is_proven(user=user, email=user.email):
        raise AddressAlreadyProven(f"{user.email} is proven already: there is nothing to verify.")
    gateway.send(
        "account/address_proof_reminder",
        to=user.email,
        context={
            "workspace_name": workspace_name,
            "login_url": app_settings.public_url("/accounts/login/"),
            "reset_url": app_settings.public_url("/accounts/password/reset/"),
            "has_password": user.has_usable_password(),
        },
    )
    return user.email
