"""The gateway's calls, made by the real SDK against localstripe and our sessions stand-in."""

import pytest

from billing import gateway

pytestmark = pytest.mark.django_db


def test_a_workspace_customer_is_created_once_and_reused(stripe_on, workspace_a):
    customer_id = gateway.customer_for_workspace(workspace=workspace_a, email="owner@example.com")
    assert customer_id.startswith("cus_")
    # With the stored id there is no second customer.
    assert gateway.customer_for_workspace(workspace=workspace_a, customer_id=customer_id) == customer_id


def test_checkout_session_names_the_workspace(stripe_on, stripe_api, workspace_a):
    customer_id = gateway.customer_for_workspace(workspace=workspace_a)
    session = gateway.checkout_session_create(
        customer_id=customer_id,
        price_id="price_team_monthly",
        quantity=3,
        workspace_id=workspace_a.pk,
        success_url="http://alpha.localhost/settings/billing/?done=1",
        cancel_url="http://alpha.localhost/settings/billing/",
    )
    assert session.id.startswith("cs_test_")
    assert session.url.endswith(session.id)
    fields = stripe_api.sessions[-1]["fields"]
    assert fields["mode"] == "subscription"
    assert fields["customer"] == customer_id
    assert fields["client_reference_id"] == str(workspace_a.pk)
    assert fields["line_items[0][price]"] == "price_team_monthly"
    assert fields["line_items[0][quantity]"] == "3"


def test_portal_session(stripe_on, stripe_api, workspace_a):
    customer_id = gateway.customer_for_workspace(workspace=workspace_a)
    session = gateway.portal_session_create(customer_id=customer_id, return_url="http://alpha.localhost/")
    assert session.url.startswith("https://billing.stripe.test/")
    assert stripe_api.sessions[-1]["fields"]["customer"] == customer_id


def test_invoices_of_a_new_customer(stripe_on, workspace_a):
    customer_id = gateway.customer_for_workspace(workspace=workspace_a)
    assert gateway.invoices_list(customer_id=customer_id) == []
