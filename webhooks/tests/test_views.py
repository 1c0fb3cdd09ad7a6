"""Settings → Webhooks over HTTP: secrets shown once, refusals explained, the log, its filters and
redelivery; another endpoint's delivery is not reachable through this one."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils.html import escape

from inbox import services as inbox
from tenants import secret_box
from tenants.context import run_in_workspace, workspace_schema
from webhooks import services
from webhooks.models import Delivery, Endpoint, Event
from webhooks.tests.refused_targets import REFUSED, delivery_refusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(workspace_a):
    def make():
        endpoint, _ = services.endpoint_create(url="https://hooks.example/", event_types=["contact.created"])
        website, _ = inbox.website_create(workspace=workspace_a, name="S", allowed_origins="")
        inbox.contact_for_visitor(website=website, token=None)
        return endpoint

    return run_in_workspace(workspace_a.schema_name, make)


def test_adding_an_endpoint_shows_its_secret_once(client_a, workspace_a):
    response = client_a.post(
        "/settings/webhooks/new/",
        {"url": "https://hooks.example/in", "description": "CRM", "event_types": ["message.created"]},
    )
    assert response.status_code == 302
    page = client_a.get(response["Location"]).content.decode()
    with workspace_schema(workspace_a.schema_name):
        endpoint = Endpoint.objects.get()
        secret = secret_box.unseal(endpoint.secret_sealed)
    assert secret.startswith("whsec_") and secret in page
    assert secret not in client_a.get(response["Location"]).content.decode(), "only once"
    assert secret not in endpoint.secret_sealed


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://hooks.example/", "use http:// or https://"),
        ("http://169.254.169.254/latest", "cloud metadata"),
        ("https://user:pw@hooks.example/", "credentials"),
    ],
)
def test_unusable_urls_are_refused_with_the_reason(client_a, url, error):
    response = client_a.post("/settings/webhooks/new/", {"url": url, "event_types": ["message.created"]})
    assert response.status_code == 200 and error in response.content.decode()


@pytest.mark.parametrize(("url", "why"), REFUSED)
@override_settings(PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS=False)
def test_a_url_of_our_own_networks_is_refused_in_any_form_when_added_or_edited(
    client_a, workspace_a, url, why
):
    reason = escape(f"This URL cannot receive webhooks: {delivery_refusal(url)}.")
    form = {"url": url, "event_types": ["message.created"]}
    added = client_a.post("/settings/webhooks/new/", form)
    assert added.status_code == 200 and reason in added.content.decode() and why in reason
    endpoint = run_in_workspace(
        workspace_a.schema_name,
        lambda: services.endpoint_create(url="https://93.184.215.14/", event_types=["message.created"])[0],
    )
    edited = client_a.post(f"/settings/webhooks/{endpoint.pk}/", form)
    assert edited.status_code == 200 and reason in edited.content.decode()
    with workspace_schema(workspace_a.schema_name):
        assert list(Endpoint.objects.values_list("url", flat=True)) == ["https://93.184.215.14/"]


def test_an_endpoint_needs_an_event(client_a):
    response = client_a.post("/settings/webhooks/new/", {"url": "https://hooks.example/"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()


def test_the_log_filters_pages_and_redelivers(client_a, workspace_a, hook):
    page = client_a.get(f"/settings/webhooks/{hook.pk}/").content.decode()
    assert "contact.created" in page and "Last 24 hours" in page
    log_url = f"/settings/webhooks/{hook.pk}/?status=failed"
    empty = client_a.get(log_url, HTTP_HX_REQUEST="true").content.decode()
    assert "No deliveries match these filters" in empty and "<html" not in empty
    with workspace_schema(workspace_a.schema_name):
        delivery = Delivery.objects.get()
        Delivery.objects.update(status="failed")
    row = client_a.post(
        f"/settings/webhooks/{hook.pk}/deliveries/{delivery.pk}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Redelivery queued" in row
    with workspace_schema(workspace_a.schema_name):
        assert Delivery.objects.get().status == "pending" and Delivery.objects.get().job_token == 2


def test_a_delivery_is_reached_only_through_its_own_endpoint(client_a, workspace_a, hook):
    other = run_in_workspace(
        workspace_a.schema_name,
        lambda: services.endpoint_create(url="https://other.example/", event_types=["contact.created"])[0],
    )
    with workspace_schema(workspace_a.schema_name):
        delivery = Delivery.objects.get()
    assert client_a.get(f"/settings/webhooks/{other.pk}/deliveries/{delivery.pk}/").status_code == 404
    assert client_a.post(f"/settings/webhooks/{other.pk}/deliveries/{delivery.pk}/").status_code == 404


def test_rotate_toggle_and_test_event(client_a, workspace_a, hook):
    response = client_a.post(f"/settings/webhooks/{hook.pk}/rotate-secret/")
    page = client_a.get(response["Location"]).content.decode()
    assert "whsec_" in page and "1 replaced secret still signs until" in page
    client_a.post(f"/settings/webhooks/{hook.pk}/toggle/")
    with workspace_schema(workspace_a.schema_name):
        assert not Endpoint.objects.get().enabled
    client_a.post(f"/settings/webhooks/{hook.pk}/toggle/")
    client_a.post(f"/settings/webhooks/{hook.pk}/test/")
    with workspace_schema(workspace_a.schema_name):
        assert Endpoint.objects.get().enabled
        assert Event.objects.filter(type="webhook.test").count() == 1


@pytest.mark.parametrize("before", ["²", "0", "-1", "9223372036854775808", "1e3"])
def test_a_log_page_cursor_that_is_not_an_id_is_a_clear_400(client_a, hook, before):
    for htmx in ({"HTTP_HX_REQUEST": "true"}, {}):
        response = client_a.get(f"/settings/webhooks/{hook.pk}/", {"before": before}, **htmx)
        assert response.status_code == 400 and b"before must be" in response.content
    assert client_a.get(f"/settings/webhooks/{hook.pk}/", {"before": ""}).status_code == 200


def test_a_rotation_refused_says_why_and_keeps_the_secret(client_a, workspace_a, hook):
    for _ in range(services.RETIRED_SECRETS_MAX):
        client_a.post(f"/settings/webhooks/{hook.pk}/rotate-secret/")
    with workspace_schema(workspace_a.schema_name):
        before = Endpoint.objects.get().secret_sealed
    page = client_a.post(f"/settings/webhooks/{hook.pk}/rotate-secret/", follow=True).content.decode()
    assert "5 earlier secrets still sign every delivery" in page
    assert "5 replaced secrets still sign until" in page
    with workspace_schema(workspace_a.schema_name):
        assert Endpoint.objects.get().secret_sealed == before
