"""Staff users, with and without an authenticator app, and a client that logged in as one through
allauth's own login and two-factor pages."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.test import Client

from accounts.models import User
from conftest import host_client

STAFF_EMAIL = "ops@parley.example"
STAFF_PASSWORD = "staff-password-9f2c"
# A fixed authenticator key, so a test can compute the codes an authenticator app would show.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app shows for `secret`, at least 2 s before it changes (the server
    takes no other: MFA_TOTP_TOLERANCE is 0)."""
    left = 30 - time.time() % 30
    if left < 2:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def make_staff(email: str = STAFF_EMAIL, *, totp: bool = True) -> User:
    """A staff user with a proven address and a password; with an authenticator app (and recovery codes)
    activated through allauth's own models, as its activation page does."""
    user = User.objects.create_user(email, STAFF_PASSWORD, is_staff=True)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if totp:
        TOTP.activate(user, TOTP_SECRET)
        RecoveryCodes.activate(user)
    return user


def recovery_code(user: User) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return RecoveryCodes(authenticator).get_unused_codes()[0]


def log_in(client: Client, email: str = STAFF_EMAIL, password: str = STAFF_PASSWORD):
    """Log in on `client`'s host through the login form; the last answer (the code page's address,
    for a user with an authenticator app)."""
    return client.post("/accounts/login/", {"login": email, "password": password})


@pytest.fixture
def staff_user(db) -> User:
    return make_staff()


@pytest.fixture
def staff_user_without_totp(db) -> User:
    return make_staff(totp=False)


@pytest.fixture
def staff_client(staff_user) -> Client:
    """The public host, logged in as a staff user with password and authenticator code."""
    client = host_client(settings.PARLEY_BASE_DOMAIN)
    asked = log_in(client)
    assert asked.status_code == 302 and asked["Location"] == "/accounts/2fa/authenticate/", asked
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert done.status_code == 302, done.content.decode()[:2000]
    return client
