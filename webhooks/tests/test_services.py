"""Endpoint writes: a URL is refused at creation and at update, whatever form its address takes, with
the reason a delivery to it would log."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tenants.context import workspace_schema
from webhooks import services
from webhooks.exceptions import EndpointInvalid
from webhooks.models import Endpoint
from webhooks.tests.refused_targets import ACCEPTED, REFUSED, REFUSED_EVERYWHERE, delivery_refusal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_a")]

EVENTS = ["message.created"]


@pytest.fixture
def in_a(workspace_a):
    with workspace_schema(workspace_a.schema_name):
        yield workspace_a


@pytest.mark.parametrize(("url", "why"), REFUSED)
@override_settings(PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS=False)
def test_a_url_of_our_own_networks_is_refused_at_creation_with_the_delivery_logs_reason(url, why):
    with pytest.raises(EndpointInvalid) as refused:
        services.endpoint_create(url=url, event_types=EVENTS)
    reason = delivery_refusal(url)
    assert why in reason
    assert str(refused.value) == f"This URL cannot receive webhooks: {reason}."
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(("url", "why"), REFUSED)
@override_settings(PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS=False)
def test_and_at_update(url, why):
    endpoint, _ = services.endpoint_create(url=ACCEPTED[0], event_types=EVENTS)
    with pytest.raises(EndpointInvalid, match=why):
        services.endpoint_update(
            endpoint=endpoint, url=url, description="", event_types=EVENTS, include_private_notes=False
        )
    endpoint.refresh_from_db()
    assert endpoint.url == ACCEPTED[0]


@pytest.mark.parametrize("url", ACCEPTED)
@override_settings(PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS=False)
def test_a_public_address_in_any_form_is_accepted(url):
    endpoint, _ = services.endpoint_create(url=url, event_types=EVENTS)
    assert endpoint.url == url


@pytest.mark.parametrize(("url", "why"), REFUSED_EVERYWHERE)
def test_development_allows_private_targets_but_never_a_metadata_service(url, why):
    with pytest.raises(EndpointInvalid, match=why):
        services.endpoint_create(url=url, event_types=EVENTS)
    for url in ("http://localhost:8000/hooks", "http://0x7f000001/", "http://hooks.invalid/"):
        assert services.endpoint_create(url=url, event_types=EVENTS)[0].url == url


def test_an_update_changes_only_what_it_is_given_and_turns_the_endpoint_on_or_off_with_it():
    endpoint, _ = services.endpoint_create(url=ACCEPTED[0], event_types=EVENTS, description="Orders")
    services.endpoint_update(endpoint=endpoint, enabled=False, disabled_reason="Turned off through the API.")
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.description) == (
        False, "Turned off through the API.", "Orders",
    )  # fmt: skip

    # A refused change in the same update leaves it off, and as it was.
    with pytest.raises(EndpointInvalid):
        services.endpoint_update(endpoint=endpoint, description="New", event_types=["no.such"], enabled=True)
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.description, endpoint.event_types) == (False, "Orders", EVENTS)

    changed = services.endpoint_update(endpoint=endpoint, description="New", enabled=True)
    endpoint.refresh_from_db()
    assert (changed.enabled, endpoint.enabled, endpoint.description, endpoint.disabled_reason) == (
        True, True, "New", "",
    )  # fmt: skip
    assert endpoint.url == ACCEPTED[0] and endpoint.event_types == EVENTS
