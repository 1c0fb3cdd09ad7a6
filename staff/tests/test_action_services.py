"""The console's action services on their own: each change and its audit row in one transaction (one
without the other never stays), an end written once, a link spent once."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from accounts.models import User
from billing.models import BillingAccount
from staff import services
from staff.models import AuditEntry, ImpersonationSession
from tenants.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(workspace_a) -> User:
    user = User.objects.create_user("ida@example.com", "ida-password-12")
    Membership.objects.create(user=user, workspace=workspace_a, role=Membership.Role.AGENT)
    return user


def test_a_change_whose_audit_row_cannot_be_written_is_undone(settings, workspace_a, owner_a):
    settings.STRIPE_SECRET_KEY = "sk_test_services"
    with pytest.raises(ValueError, match="only staff"):  # the log takes staff users only
        services.plan_override_set(
            staff=owner_a, workspace=workspace_a, plan_key="team", until=None, reason="x"
        )
    assert not BillingAccount.objects.filter(workspace=workspace_a).exclude(plan_override="").exists()
    with pytest.raises(ValueError, match="only staff"):
        services.trial_extend(
            staff=owner_a, workspace=workspace_a, until=timezone.now() + timedelta(days=3),
            plan_key="team", reason="x",
        )  # fmt: skip
    assert not BillingAccount.objects.filter(workspace=workspace_a, trial_until__isnull=False).exists()


def test_a_mail_that_cannot_leave_leaves_no_audit_row(settings, staff_user, workspace_a, agent):
    EmailAddress.objects.create(user=agent, email=agent.email, verified=False, primary=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nobody listens
    with pytest.raises((OSError, smtplib.SMTPException)):
        services.verification_resend(staff=staff_user, workspace=workspace_a, member=agent)
    assert not AuditEntry.objects.exists()


def test_the_verification_mail_refuses_a_proven_address_with_no_row(staff_user, workspace_a, owner_a):
    with pytest.raises(services.StaffError, match="proven already"):
        services.verification_resend(staff=staff_user, workspace=workspace_a, member=owner_a)
    assert not mail.outbox and not AuditEntry.objects.exists()


def test_an_impersonation_ends_once_and_its_link_then_opens_nothing(staff_user, workspace_a, agent):
    impersonation, url = services.impersonation_start(
        staff=staff_user, workspace=workspace_a, member=agent, reason="Ticket 9"
    )
    assert services.impersonation_stop(impersonation=impersonation, cause="stopped") is True
    assert services.impersonation_stop(impersonation=impersonation, cause="expired") is False
    assert AuditEntry.objects.filter(action="impersonate_stop").count() == 1
    assert ImpersonationSession.objects.get().end_cause == "stopped"
    token = parse_qs(urlsplit(url).query)["token"][0]
    with pytest.raises(services.ImpersonationRefused, match="has ended"):
        services.impersonation_enter(raw_token=token, workspace=workspace_a)


def test_a_deactivated_member_cannot_be_impersonated(staff_user, workspace_a, agent):
    User.objects.filter(pk=agent.pk).update(is_active=False)
    agent.refresh_from_db()
    with pytest.raises(services.ImpersonationRefused, match="deactivated"):
        services.impersonation_start(staff=staff_user, workspace=workspace_a, member=agent, reason="x")
    assert not ImpersonationSession.objects.exists() and not AuditEntry.objects.exists()


def test_only_the_hash_of_the_link_is_kept(staff_user, workspace_a, agent):
    _, url = services.impersonation_start(staff=staff_user, workspace=workspace_a, member=agent, reason="x")
    token = parse_qs(urlsplit(url).query)["token"][0]
    stored = ImpersonationSession.objects.get()
    assert token not in stored.handoff_token_hash and len(stored.handoff_token_hash) == 64
    assert token not in str(AuditEntry.objects.get().after)
