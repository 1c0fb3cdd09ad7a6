"""manage.py create_staff EMAIL: the first staff user, and every one after."""

from __future__ import annotations

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User
from conftest import host_client, password_reset_by_code
from staff.models import AuditEntry
from staff.tests.conftest import log_in

pytestmark = pytest.mark.django_db


def create_staff(email: str) -> str:
    out = StringIO()
    call_command("create_staff", email, stdout=out)
    return out.getvalue()


def test_a_new_staff_member_sets_a_password_by_reset_then_meets_two_factor():
    out = create_staff("first.ops@parley.example")
    assert "Made a staff account for first.ops@parley.example, with no password yet." in out
    assert "Set a password at http://localhost:8000/accounts/password/reset/" in out
    assert "http://localhost:8000/staff/" in out
    user = User.objects.get(email="first.ops@parley.example")
    assert user.is_staff and not user.has_usable_password()
    assert AuditEntry.objects.filter(action="staff_grant").count() == 1
    # What the printed steps say, done: a reset by the mailed code, a login, the console.
    client = host_client(settings.PARLEY_BASE_DOMAIN)
    password_reset_by_code(client, "first.ops@parley.example", "a-fresh-staff-password-7")
    user.refresh_from_db()
    assert user.check_password("a-fresh-staff-password-7") and user.is_staff  # no take-back either
    assert log_in(client, "first.ops@parley.example", "a-fresh-staff-password-7").status_code == 302
    assert client.get("/staff/")["Location"] == "/accounts/2fa/totp/activate/"


def test_an_existing_account_is_promoted_with_its_password_kept(owner_a):
    out = create_staff(owner_a.email)
    assert f"{owner_a.email} is staff now; their password is unchanged." in out
    assert "Set a password" not in out
    owner_a.refresh_from_db()
    assert owner_a.is_staff and owner_a.check_password("secret-password-a")


def test_running_it_again_says_so_and_writes_nothing(owner_a):
    create_staff(owner_a.email)
    assert "is staff already; nothing changed." in create_staff(owner_a.email)
    assert AuditEntry.objects.count() == 1


def test_an_unproven_address_and_a_non_address_are_refused():
    squatter = User.objects.create_user("cto@corp.example", "squatter-password-1")
    EmailAddress.objects.create(user=squatter, email=squatter.email, verified=False, primary=True)
    with pytest.raises(CommandError, match="has not proven that address"):
        create_staff("cto@corp.example")
    with pytest.raises(CommandError, match="is not an email address"):
        create_staff("nobody")
    assert not User.objects.filter(is_staff=True).exists()
