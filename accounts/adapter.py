from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.defaultfilters import pluralize

from mail import gateway
from tenants import secret_box, services
from tenants.models import Membership

# Where a logged-in invitee goes back to once they have proven the invited address.
AFTER_EMAIL_PROOF_SESSION_KEY = "parley_after_email_proof"


class AccountAdapter(DefaultAccountAdapter):
    """Where people land: a new owner in their new workspace, a returning user in theirs."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Workspaces are created on the public site; a workspace host only logs people in.
        return getattr(request, "workspace", None) is None

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        # The sign-up request itself knows its workspace; after the emailed code it is the one the
        # new account owns (sign-up makes exactly one).
        workspace = getattr(request, "new_workspace", None)
        if workspace is None:
            owned = (
                Membership.objects.filter(user=request.user, role=Membership.Role.OWNER)
                .select_related("workspace")
                .order_by("-created_at")
                .first()
            )
            workspace = owned.workspace if owned else None
        if workspace is None:
            return super().get_signup_redirect_url(request)
        return services.handoff_url(user=request.user, workspace=workspace)

    def get_client_ip(self, request: HttpRequest) -> str:
        # The address that login and sign-up limits count. REMOTE_ADDR is the ASGI scope's client,
        # which config/edge.py has already taken from X-Forwarded-For if, and only if, a trusted
        # proxy sent it; allauth's own reading of that header (ALLAUTH_TRUSTED_PROXY_COUNT,
        # ALLAUTH_TRUSTED_CLIENT_IP_HEADER) would be a second, disagreeing decision, so none here.
        address = request.META.get("REMOTE_ADDR")
        if not address:
            raise PermissionDenied("Unable to determine client IP address")
        return address

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if getattr(request, "workspace", None) is None:
            # One workspace: straight in, not a chooser with one button. Several: the chooser.
            memberships = list(Membership.objects.filter(user=request.user).select_related("workspace")[:2])
            if len(memberships) == 1:
                return services.handoff_url(user=request.user, workspace=memberships[0].workspace)
            return "/workspaces/"
        return super().get_login_redirect_url(request)

    def get_email_verification_redirect_url(self, email_address) -> str:
        back = self.request.session.pop(AFTER_EMAIL_PROOF_SESSION_KEY, None)
        if back and self.request.user.is_authenticated:
            return back
        return super().get_email_verification_redirect_url(email_address)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Every allauth mail leaves through Parley's mail gateway, in Parley's own templates
        # (templates/email/account/<name>/), not allauth's. Links in mail come from settings, never
        # from the request's Host header (which anyone can set): allauth builds its links from the
        # request, so every absolute URL it hands over is moved onto PARLEY_PUBLIC_URL here, and the
        # request itself (and the "site" allauth derives from it) is not passed on.
        public = urlsplit(settings.PARLEY_PUBLIC_URL)
        rebased = {
            name: urlunsplit((public.scheme, public.netloc, *urlsplit(value)[2:]))
            if isinstance(value, str) and value.startswith(("http://", "https://"))
            else value
            for name, value in context.items()
            if name not in ("request", "current_site")
        }
        name = template_prefix.removeprefix("account/email/")
        if name in CODE_KINDS:
            rebased["expires_in"] = code_lifetime(CODE_KINDS[name])
        gateway.send(f"account/{name}", to=email, context={**rebased, "email": email})


class MFAAdapter(DefaultMFAAdapter):
    """Two-factor secrets (an authenticator app's key, the recovery codes' seed) are sealed at rest like
    Parley's other secrets we must read back: a copy of the database alone cannot make codes."""

    def encrypt(self, text: str) -> str:
        return secret_box.seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return secret_box.unseal(encrypted_text)


# The code each allauth mail carries, for the "expires in" line of the mail and of the page asking for it.
CODE_KINDS = {
    "email_confirmation_signup": "email_verification",
    "email_confirmation": "email_verification",
    "password_reset_code": "password_reset",
}


def code_lifetime(kind: str) -> str:
    """How long an emailed code of `kind` ("email_verification" or "password_reset") works, in words."""
    seconds = {
        "email_verification": account_settings.EMAIL_VERIFICATION_BY_CODE_TIMEOUT,
        "password_reset": account_settings.PASSWORD_RESET_BY_CODE_TIMEOUT,
    }[kind]
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{pluralize(minutes)}"
