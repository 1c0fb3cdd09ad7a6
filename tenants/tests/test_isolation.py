"""Nobody reaches a workspace they are not a member of, by any route, on any host."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from api import services as api_key_services
from conftest import host_client
from inbox import services as inbox_services
from tenants import services
from tenants.context import run_in_workspace
from tenants.middleware import _OPEN_PATH_PREFIXES
from tenants.models import Domain, Membership
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db


def _workspace_routes() -> dict[str, tuple[str, ...]]:
    """Every members-only route of a workspace host: its name and the URL parameters it takes."""
    routes = {}
    paths = ROUTE_PATHS

    def walk(patterns, prefix="/"):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(_OPEN_PATH_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                routes[pattern.name] = tuple(pattern.pattern.converters)
                paths[pattern.name] = route

    walk(get_resolver("config.urls").url_patterns)
    return routes


ROUTE_PATHS: dict[str, str] = {}
ROUTES = _workspace_routes()


@pytest.fixture
def sample_kwargs(workspace_a) -> dict:
    """A real value for every URL parameter, made in workspace A. A route with a parameter missing
    here fails every test below, so no route escapes them."""
    website, _ = run_in_workspace(
        workspace_a.schema_name,
        inbox_services.website_create,
        workspace=workspace_a,
        name="Alpha shop",
        allowed_origins="https://shop.alpha.example",
    )

    def visitor_writes():
        contact, _ = inbox_services.contact_for_visitor(website=website, token=None)
        message, _ = inbox_services.message_from_visitor(contact_id=contact.pk, body="Hello")
        return message.conversation_id

    conversation_id = run_in_workspace(workspace_a.schema_name, visitor_writes)
    label = run_in_workspace(
        workspace_a.schema_name, inbox_services.label_create, name="Billing", color="#22c55e"
    )
    canned = run_in_workspace(
        workspace_a.schema_name, inbox_services.canned_response_create, shortcut="hi", body="Hello there!"
    )

    def endpoint_with_a_delivery():
        endpoint, _ = webhook_services.endpoint_create(
            url="https://hooks.alpha.example/", event_types=["contact.created"]
        )
        inbox_services.contact_for_visitor(website=website, token=None)
        return endpoint.pk, endpoint.deliveries.get().pk

    endpoint_id, delivery_id = run_in_workspace(workspace_a.schema_name, endpoint_with_a_delivery)
    owner_membership = Membership.objects.get(workspace=workspace_a, role=Membership.Role.OWNER)
    api_key = run_in_workspace(
        workspace_a.schema_name,
        lambda: api_key_services.api_key_create(name="CRM", scope="read", by=owner_membership.user)[0],
    )
    invitation, _ = services.invitation_create(
        workspace=workspace_a, email="new@example.com", role="agent", by=owner_membership
    )
    return {
        "slug": "alpha",
        "website_id": website.pk,
        "conversation_id": conversation_id,
        "membership_id": owner_membership.pk,
        "invitation_id": invitation.pk,
        "label_id": label.pk,
        "canned_id": canned.pk,
        "endpoint_id": endpoint_id,
        "delivery_id": delivery_id,
        "key_id": api_key.pk,
    }


@pytest.fixture(autouse=True)
def _billing_on(settings):
    # Billing's pages exist only while billing is on: on, so that every route here is a real page.
    settings.STRIPE_SECRET_KEY = "sk_test_isolation"


def _path(name: str, sample_kwargs: dict) -> str:
    return reverse(name, urlconf="config.urls", kwargs={k: sample_kwargs[k] for k in ROUTES[name]})


def test_every_workspace_route_is_covered():
    assert {"workspace_home", "workspace_settings", "website_list", "website_detail", "inbox"} <= set(ROUTES)
    assert {"team", "team_member_role", "website_list", "label_create", "canned_delete"} <= set(
        SETTINGS_ROUTES
    )


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_member_of_a_gets_404_on_every_page_of_b(workspace_b, owner_a, sample_kwargs, name, method):
    # The test client sends its session cookie to every host, so this is even stronger than a
    # browser, which would keep alpha's cookie on alpha's host.
    client = host_client("beta.localhost", owner_a)
    response = getattr(client, method)(_path(name, sample_kwargs))
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_a_member_reaches_every_page_of_their_own_workspace(client_a, sample_kwargs, name):
    response = client_a.get(_path(name, sample_kwargs))
    assert response.status_code in (200, 302, 405), (name, response.status_code)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_visitors_are_sent_to_the_login_page(sample_kwargs, name):
    response = host_client("alpha.localhost").get(_path(name, sample_kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("name", sorted(set(ROUTES) - {"workspace_home"}))
def test_the_public_host_never_serves_workspace_pages(client, owner_a, sample_kwargs, name):
    client.force_login(owner_a)
    assert client.get(_path(name, sample_kwargs)).status_code == 404


def test_the_public_home_is_the_landing_page_not_a_workspace(client, owner_a):
    client.force_login(owner_a)
    html = client.get("/").content.decode()
    assert "Create your workspace" in html and "Alpha Support" not in html


@pytest.mark.parametrize("host", ["nope.localhost", "alpha.localhost.evil.example", "localhost.evil"])
def test_unknown_hosts_get_404_or_400(owner_a, host):
    response = host_client(host, owner_a).get("/")
    assert response.status_code in (400, 404)


def test_a_spare_schema_is_unreachable_even_with_a_domain(owner_a):
    spare = services.spare_schema_provision()
    Domain.objects.create(tenant=spare, domain="ghost.localhost", is_primary=True)  # should never exist
    assert host_client("ghost.localhost", owner_a).get("/").status_code == 404


def test_switching_to_a_workspace_you_are_not_in_is_404(client_a):
    assert client_a.post("/switch/beta/").status_code == 404


def test_switching_to_your_other_workspace_hands_you_over(client_a, owner_a, workspace_b):
    Membership.objects.create(user=owner_a, workspace=workspace_b, role=Membership.Role.AGENT)
    response = client_a.post("/switch/beta/")
    assert response.status_code == 302
    assert response["Location"].startswith("http://beta.localhost:8000/handoff/?token=")
    beta = host_client("beta.localhost:8000")
    assert beta.get(response["Location"].split(":8000", 1)[1]).status_code == 302
    assert "Beta Support" in beta.get("/").content.decode()


def test_a_handoff_token_for_a_is_refused_on_b(workspace_a, owner_a):
    token = services.handoff_create(user=owner_a, workspace=workspace_a)
    response = host_client("beta.localhost").get(f"/handoff/?token={token}")
    assert response.status_code == 400
    assert host_client("beta.localhost").get("/").status_code == 302  # still anonymous there


def test_settings_are_for_owners_only(workspace_a):
    admin = User.objects.create_user("admin@example.com", "irrelevant-password")
    Membership.objects.create(user=admin, workspace=workspace_a, role=Membership.Role.ADMIN)
    client = host_client("alpha.localhost", admin)
    assert client.get("/settings/").status_code == 403
    assert client.post("/settings/", {"name": "Taken over", "slug": "alpha"}).status_code == 403
    workspace_a.refresh_from_db()
    assert workspace_a.name == "Alpha Support"


SETTINGS_ROUTES = sorted(name for name, route in ROUTE_PATHS.items() if route.startswith("/settings/"))


@pytest.mark.parametrize("name", SETTINGS_ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_agents_cannot_see_or_change_any_settings(workspace_a, owner_b, sample_kwargs, name, method):
    Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    client = host_client("alpha.localhost", owner_b)
    response = getattr(client, method)(_path(name, sample_kwargs))
    assert response.status_code in (403, 405), (name, response.status_code)
    assert client.get("/inbox/").status_code == 200  # while the inbox is theirs
