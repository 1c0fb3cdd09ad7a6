"""What owners are told: a failed payment (email, banner), and the month's conversations at 80 % and
100 % of the plan (an email once each a month, and a banner). Visitors are never refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from billing import services
from billing.models import BillingAccount
from billing.tests.test_stripe_events import _deliver, _subscribed_customer
from inbox import services as inbox_services
from tenants.context import workspace_schema

pytestmark = pytest.mark.django_db


def _conversations(workspace, count: int) -> None:
    with workspace_schema(workspace.schema_name):
        from inbox.models import Website

        website = (
            Website.objects.first()
            or inbox_services.website_create(workspace=workspace, name="S", allowed_origins="")[0]
        )
        for i in range(count):
            contact, _ = inbox_services.contact_for_visitor(website=website, token=None)
            inbox_services.message_from_visitor(contact_id=contact.pk, body=f"hello {i}")


def test_the_months_conversations_warn_at_80_and_100_percent_once_each_and_never_refuse(
    stripe_on, settings, workspace_a, owner_a, client_a, django_capture_on_commit_callbacks
):
    from billing import plans

    settings.PARLEY_BILLING_GRACE_DAYS = 7
    free = plans.FREE
    _conversations(workspace_a, 79)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.usage_check(workspace=workspace_a) == 0
    assert (
        mail.outbox == []
        and "conversations" not in client_a.get("/").content.decode().lower().split("<main")[0]
    )

    _conversations(workspace_a, 2)  # 81 of 100
    for _ in range(2):  # checked twice: one email
        with django_capture_on_commit_callbacks(execute=True):
            assert services.usage_check(workspace=workspace_a) == 80
    assert [m.subject for m in mail.outbox] == ["Alpha Support has used 80 % of this month's conversations"]
    assert mail.outbox[0].to == [owner_a.email] and "81 conversations this month" in mail.outbox[0].body
    assert "http://alpha.localhost:8000/settings/billing/" in mail.outbox[0].body
    assert "81 of 100 conversations" in client_a.get("/inbox/").content.decode()  # the banner

    _conversations(workspace_a, free.conversations_per_month - 81 + 5)  # past the limit: still stored
    with django_capture_on_commit_callbacks(execute=True):
        assert services.usage_check(workspace=workspace_a) == 100
    assert mail.outbox[-1].subject == "Alpha Support has used this month's 100 conversations"
    assert len(mail.outbox) == 2
    from billing.selectors import conversations_this_month

    assert conversations_this_month(workspace_a) == 105

    # A new month: counted afresh, told afresh.
    account = BillingAccount.objects.get(workspace=workspace_a)
    account.usage_month = "2026-01"
    account.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.usage_check(workspace=workspace_a)
    assert len(mail.outbox) == 3


def test_a_failed_payment_emails_the_owners_once_and_shows_a_banner_until_paid(
    stripe_on, settings, client, workspace_a, owner_a, client_a, django_capture_on_commit_callbacks
):
    account, subscription = _subscribed_customer(stripe_on, workspace_a, "price_team_monthly")
    invoice = {"id": "in_failed", "object": "invoice", "customer": account.stripe_customer_id,
               "subscription": subscription["id"]}  # fmt: skip
    created = int(dt.datetime.now(dt.UTC).timestamp())
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(client, stripe_on, "evt_pf_1", "invoice.payment_failed", invoice, created)
        services.stripe_event_process(stripe_id="evt_pf_1")
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(
            client, stripe_on, "evt_pf_2", "invoice.payment_failed", invoice, created + 5
        )  # a retry fails
        services.stripe_event_process(stripe_id="evt_pf_2")
    assert [m.subject for m in mail.outbox] == ["Payment for Alpha Support's Parley plan failed"]
    assert "Update the payment method" in mail.outbox[0].body
    banner = client_a.get("/inbox/").content.decode()
    assert "The last payment failed" in banner and 'href="/settings/billing/"' in banner
