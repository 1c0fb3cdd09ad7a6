"""Impersonation over HTTP, from the console to the workspace's host and back: a required reason, a
one-time link, read-only (pages, htmx, the REST API), a banner with Stop and the time left, every page
in the audit log, ended by Stop, by logging out or by time (moved, not waited for)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from conftest import host_client
from inbox import services as inbox_services
from inbox.models import Conversation
from staff.models import AuditEntry, ImpersonationSession
from tenants import services as tenant_services
from tenants.context import workspace_schema
from tenants.models import Membership, Workspace

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"
CONSOLE = "http://localhost:8000/staff/workspaces/{}/"


@pytest.fixture
def agent(workspace_a) -> User:
    user = User.objects.create_user("ida@example.com", "ida-password-12", display_name="Ida Agent")
    Membership.objects.create(user=user, workspace=workspace_a, role=Membership.Role.AGENT)
    return user


def _start(staff_client: Client, workspace, member, reason: str = "Ticket 31: inbox looks empty"):
    return staff_client.post(
        f"/staff/workspaces/{workspace.pk}/impersonate/", {"member": member.pk, "reason": reason}
    )


def _link(response) -> str:
    """The path (and token) of the one-time link a start answered with, on alpha's host."""
    assert response.status_code == 302, response.content.decode()[:2000]
    url = urlsplit(response["Location"])
    assert (url.scheme, url.netloc, url.path) == ("http", "alpha.localhost:8000", "/handoff/impersonate/")
    return f"{url.path}?{url.query}"


@pytest.fixture
def viewing(staff_client, workspace_a, agent) -> Client:
    """The staff user's browser on alpha's host, viewing it as the agent."""
    browser = host_client(ALPHA)
    landed = browser.get(_link(_start(staff_client, workspace_a, agent)))
    assert landed.status_code == 302 and landed["Location"] == "/"
    return browser


def _rows(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_starting_writes_one_row_and_the_link_logs_in_as_the_member_with_a_banner(
    staff_client, staff_user, workspace_a, agent
):
    link = _link(_start(staff_client, workspace_a, agent))
    (started,) = _rows("impersonate_start")
    impersonation = ImpersonationSession.objects.get()
    assert (started.staff, started.workspace, started.reason) == (
        staff_user,
        workspace_a,
        "Ticket 31: inbox looks empty",
    )
    assert started.after["member"] == "ida@example.com" and started.after["impersonation"] == impersonation.pk
    assert impersonation.expires_at - impersonation.started_at <= timedelta(minutes=30)
    assert AuditEntry.objects.count() == 1

    browser = host_client(ALPHA)
    assert browser.get(link)["Location"] == "/"
    home = browser.get("/")
    html = home.content.decode()
    assert home.status_code == 200 and home.wsgi_request.user == agent
    assert re.search(
        r"You are viewing <strong>Alpha Support</strong> as <strong>Ida Agent</strong> .*— read-only — "
        r'<time datetime="[^"]+" data-impersonation-ends>(30|29) min left</time>',
        html,
    ), html
    assert 'action="/impersonation/stop/"' in html
    agent.refresh_from_db()
    assert agent.last_login is None  # viewing as someone is not their login

    # The link works once, on its own workspace's host only.
    assert host_client(ALPHA).get(link).status_code == 400
    assert "expired or was already used" in host_client(ALPHA).get(link).content.decode()


def test_the_link_is_refused_elsewhere_and_once_stale(staff_client, workspace_a, workspace_b, agent):
    link = _link(_start(staff_client, workspace_a, agent))
    assert host_client("beta.localhost").get(link).status_code == 400
    ImpersonationSession.objects.update(handoff_expires_at=timezone.now() - timedelta(seconds=1))
    stale = host_client(ALPHA).get(link)
    assert stale.status_code == 400 and "expired or was already used" in stale.content.decode()
    assert not host_client(ALPHA).get("/").wsgi_request.user.is_authenticated


def test_every_page_and_fragment_shown_is_written_to_the_log(viewing, staff_user, workspace_a):
    assert viewing.get("/inbox/").status_code == 200
    assert viewing.get("/inbox/list/?tab=all", headers={"HX-Request": "true"}).status_code == 200
    assert viewing.get("/settings/").status_code == 403  # an agent's view: refused to them too
    pages = _rows("impersonate_page")
    assert [(p.after["page"], p.after["status"]) for p in pages] == [
        ("/inbox/", 200), ("/inbox/list/?tab=all", 200), ("/settings/", 403)
    ]  # fmt: skip
    assert {(p.staff, p.workspace, p.after["as"]) for p in pages} == {
        (staff_user, workspace_a, "ida@example.com")
    }
    assert not any("token" in p.after["page"] for p in pages)  # the link's token stays out of the log


def test_nothing_can_be_written_while_impersonating(staff_client, workspace_a, owner_a):
    browser = host_client(ALPHA)
    browser.get(_link(_start(staff_client, workspace_a, owner_a)))  # the owner: every write is theirs
    pages_before = len(_rows("impersonate_page"))

    rename = browser.post("/settings/", {"name": "Renamed", "slug": "alpha"})
    assert rename.status_code == 403
    assert "Read-only: you are viewing Alpha Support as owner-a@example.com." in rename.content.decode()
    invite = browser.post("/settings/team/", {"email": "new@example.com", "role": "agent"})
    key = browser.post("/settings/api-keys/", {"name": "mine", "scope": "write"})
    reply = browser.post("/inbox/c/1/reply/", {"body": "hi"}, headers={"HX-Request": "true"})
    assert (invite.status_code, key.status_code, reply.status_code) == (403, 403, 403)
    assert reply["X-Parley-Refused"] == "impersonation" and reply.content.decode().startswith("Read-only:")
    for method in ("post", "put", "patch", "delete"):
        api = getattr(browser, method)("/api/v1/conversations/1", content_type="application/json")
        assert api.status_code == 403
        assert api.json()["error"]["code"] == "impersonation_read_only", method

    assert Workspace.objects.get(pk=workspace_a.pk).name == "Alpha Support"
    assert not workspace_a.invitations.exists()
    assert len(_rows("impersonate_page")) == pages_before  # a refused write is not a page shown


def test_stop_ends_it_once_and_returns_to_the_console(viewing, staff_user, workspace_a):
    stopped = viewing.post("/impersonation/stop/")
    assert stopped.status_code == 302 and stopped["Location"] == CONSOLE.format(workspace_a.pk)
    (stop,) = _rows("impersonate_stop")
    assert (stop.staff, stop.workspace, stop.reason) == (staff_user, workspace_a, "Stopped")
    impersonation = ImpersonationSession.objects.get()
    assert impersonation.ended_at is not None and impersonation.end_cause == "stopped"
    # Signed out on that host: the next page asks for a login, and Stop again changes nothing.
    assert viewing.get("/")["Location"].startswith("/accounts/login/")
    assert viewing.post("/impersonation/stop/")["Location"].startswith("/accounts/login/")
    assert len(_rows("impersonate_stop")) == 1


def test_logging_out_ends_it_too(viewing):
    assert viewing.post("/accounts/logout/").status_code == 302
    (stop,) = _rows("impersonate_stop")
    assert stop.reason == "Stopped"
    assert ImpersonationSession.objects.get().ended_at is not None


def test_it_ends_by_itself_when_its_time_is_up(viewing, workspace_a):
    expired_at = timezone.now() - timedelta(seconds=5)
    ImpersonationSession.objects.update(expires_at=expired_at)  # half an hour later
    pages_before = len(_rows("impersonate_page"))
    sent_back = viewing.get("/inbox/")
    assert sent_back.status_code == 302 and sent_back["Location"] == CONSOLE.format(workspace_a.pk)
    (stop,) = _rows("impersonate_stop")
    assert stop.reason == "Time ran out"
    impersonation = ImpersonationSession.objects.get()
    assert (impersonation.ended_at, impersonation.end_cause) == (expired_at, "expired")
    assert len(_rows("impersonate_page")) == pages_before  # nothing more was shown
    assert viewing.get("/")["Location"].startswith("/accounts/login/")
    assert len(_rows("impersonate_stop")) == 1


def test_an_htmx_request_after_the_end_is_sent_to_the_console_whole(viewing, workspace_a):
    ImpersonationSession.objects.update(expires_at=timezone.now())
    fragment = viewing.get("/inbox/list/", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment["HX-Redirect"] == CONSOLE.format(workspace_a.pk)


def test_it_ends_when_the_staff_user_loses_staff_access(viewing, staff_user):
    User.objects.filter(pk=staff_user.pk).update(is_staff=False)
    assert viewing.get("/").status_code == 302
    (stop,) = _rows("impersonate_stop")
    assert stop.reason == "Staff access ended" and stop.staff is None and stop.after["by"] == staff_user.email


def test_it_ends_when_the_member_leaves_the_workspace(viewing, agent):
    Membership.objects.filter(user=agent).delete()
    assert viewing.get("/inbox/").status_code == 302
    assert ImpersonationSession.objects.get().end_cause == "revoked"


def test_a_member_session_of_the_same_user_is_no_impersonation(viewing, agent):
    # The member's own session on that host: no banner, no audit, writes as usual.
    own = host_client(ALPHA, agent)
    home = own.get("/").content.decode()
    assert "You are viewing" not in home
    assert own.post("/impersonation/stop/").status_code == 404
    assert not _rows("impersonate_page")


@pytest.mark.parametrize(
    ("who", "reason", "error"),
    [
        ("STAFF", "x", "is a staff account: staff accounts cannot be impersonated."),
        ("SUPERUSER", "x", "is a staff account: staff accounts cannot be impersonated."),
        ("OTHER", "x", "owner-b@example.com is not a member of Alpha Support."),
        ("AGENT", "", "Say why: the reason goes into the audit log."),
        ("AGENT", "   ", "Say why: the reason goes into the audit log."),
        ("NOBODY", "x", "No such member."),
    ],
)
def test_refused_starts_say_why_and_write_nothing(
    staff_client, staff_user, workspace_a, agent, owner_b, who, reason, error
):
    boss = User.objects.create_user("boss@example.com", "boss-password-12", is_superuser=True)
    for user in (staff_user, boss):
        Membership.objects.create(user=user, workspace=workspace_a, role=Membership.Role.ADMIN)
    member = {"STAFF": staff_user, "SUPERUSER": boss, "OTHER": owner_b, "AGENT": agent}.get(who)
    sent = staff_client.post(
        f"/staff/workspaces/{workspace_a.pk}/impersonate/",
        {"member": member.pk if member else 987654, "reason": reason},
    )
    assert sent.status_code == 400 and error in sent.content.decode()
    assert not ImpersonationSession.objects.exists() and not AuditEntry.objects.exists()


def test_the_page_offers_impersonation_for_members_but_not_staff(
    staff_client, staff_user, workspace_a, agent
):
    Membership.objects.create(user=staff_user, workspace=workspace_a, role=Membership.Role.ADMIN)
    html = staff_client.get(f"/staff/workspaces/{workspace_a.pk}/").content.decode()
    assert html.count(f'action="/staff/workspaces/{workspace_a.pk}/impersonate/"') == 2  # owner and agent
    assert "View as Ida Agent: read-only, 30 minutes" in html
    assert "A staff account: it cannot be impersonated." in html


def test_the_start_is_on_the_console_only_and_needs_a_passed_second_factor(workspace_a, agent, staff_user):
    # Signed in without the authenticator's code: sent to enter it, nothing started.
    unproven = host_client("localhost", staff_user)
    asked = _start(unproven, workspace_a, agent)
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert host_client(ALPHA, staff_user).post("/staff/workspaces/1/impersonate/").status_code == 404
    assert not ImpersonationSession.objects.exists()


def test_opening_a_conversation_while_impersonating_leaves_it_unread(viewing, workspace_a):
    with workspace_schema(workspace_a.schema_name):
        website, _ = inbox_services.website_create(workspace=workspace_a, name="S", allowed_origins="")
        contact, _ = inbox_services.contact_for_visitor(website=website, token=None)
        inbox_services.message_from_visitor(contact_id=contact.pk, body="Hello?", client_id=str(uuid.uuid4()))
        conversation = Conversation.objects.get()
    assert conversation.unread_count == 1
    page = viewing.get(f"/inbox/c/{conversation.pk}/")
    assert page.status_code == 200 and "Hello?" in page.content.decode()
    with workspace_schema(workspace_a.schema_name):
        conversation.refresh_from_db()
    assert conversation.unread_count == 1  # the team still sees it unread


def test_the_owners_export_cannot_be_downloaded_while_impersonating(staff_client, workspace_a, owner_a):
    browser = host_client(ALPHA)
    browser.get(_link(_start(staff_client, workspace_a, owner_a)))
    refused = browser.get("/settings/export/download/")
    assert refused.status_code == 403
    assert "Nothing can be changed while impersonating" in refused.content.decode()
    assert browser.get("/settings/").status_code == 200  # the owner's settings page itself: viewable


def test_stop_works_on_a_suspended_workspace(viewing, staff_user, workspace_a):
    tenant_services.workspace_suspend(workspace=workspace_a, reason="Chargeback.")
    assert viewing.get("/").status_code == 403  # the suspended page, as the member sees it
    stopped = viewing.post("/impersonation/stop/")
    assert stopped.status_code == 302 and stopped["Location"] == CONSOLE.format(workspace_a.pk)
    assert len(_rows("impersonate_stop")) == 1
