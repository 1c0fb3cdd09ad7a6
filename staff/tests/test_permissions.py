"""Who reaches the staff console: staff with two-factor authentication, on the public host; a 404 for
everyone and everywhere else."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, URLPattern, resolve, reverse

from accounts.models import User
from conftest import host_client
from staff import urls as staff_urls
from staff.tests.conftest import STAFF_PASSWORD, log_in, make_staff, recovery_code, totp_code
from tenants import app_settings
from tenants.models import Membership

pytestmark = pytest.mark.django_db

# The console's actions: POST only, each answering a GET with 405 (the rest are pages).
ACTIONS = {
    "staff_workspace_suspend", "staff_workspace_unsuspend", "staff_workspace_delete",
    "staff_workspace_restore",
    "staff_plan_override", "staff_plan_override_clear", "staff_trial_extend", "staff_verification_resend",
    "staff_impersonate",
}  # fmt: skip


def console_paths(workspace) -> list[str]:
    """Every page of the console, with a real workspace where one is needed: a page added to
    staff/urls.py is checked here without anyone remembering to list it."""
    paths = []
    for pattern in staff_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), pattern
        kwargs = {name: workspace.pk for name in pattern.pattern.converters if name == "workspace_id"}
        assert set(kwargs) == set(pattern.pattern.converters), f"console_paths: {pattern.name}'s arguments?"
        paths.append(reverse(pattern.name, kwargs=kwargs, urlconf=settings.PUBLIC_SCHEMA_URLCONF))
    return paths


def public(user: User | None = None) -> Client:
    return host_client(settings.PARLEY_BASE_DOMAIN, user)


def assert_hidden(client: Client, paths: list[str]) -> None:
    for path in paths:
        for method in ("get", "post", "put", "delete"):
            response = getattr(client, method)(path)
            assert response.status_code == 404, (method, path, response.status_code)
            assert "Staff console" not in response.content.decode()


# Routes that answer with a fragment or a file rather than a console page: what a staff user's GET gets
# with nothing else done (exports/tests/test_views.py tests them in full).
NOT_PAGES = {
    "/export/": (200, "Export data"),  # the export panel, which the workspace page holds
    "/export/download/": (302, ""),  # no staff export is ready: back to the workspace's page
}


def test_the_console_has_a_list_a_workspace_page_its_actions_and_the_platform_health(workspace_a):
    base = f"/staff/workspaces/{workspace_a.pk}/"
    assert console_paths(workspace_a) == [
        "/staff/", base, f"{base}plan/", f"{base}plan/clear/", f"{base}trial/", f"{base}verification/",
        f"{base}impersonate/", f"{base}export/", f"{base}export/download/", "/staff/health/",
        f"{base}suspend/", f"{base}unsuspend/", f"{base}delete/", f"{base}restore/",
    ]  # fmt: skip
    assert {pattern.name for pattern in staff_urls.urlpatterns} >= ACTIONS


def test_anonymous_people_get_a_404_not_a_login_page(workspace_a):
    assert_hidden(public(), [*console_paths(workspace_a), "/staff/workspaces/999999/"])


def test_members_and_owners_get_a_404(workspace_a, owner_a, owner_b):
    agent = User.objects.create_user("agent@example.com", "agent-password-1")
    Membership.objects.create(user=agent, workspace=workspace_a, role=Membership.Role.AGENT)
    for user in (agent, owner_a, owner_b):
        assert_hidden(public(user), console_paths(workspace_a))


def test_a_superuser_who_is_not_staff_gets_a_404(workspace_a):
    boss = User.objects.create_user("boss@example.com", "boss-password-1", is_superuser=True)
    assert_hidden(public(boss), console_paths(workspace_a))


def test_no_workspace_host_has_the_console_even_for_staff_who_are_members(workspace_a, staff_user):
    with pytest.raises(Resolver404):
        resolve("/staff/", urlconf=settings.ROOT_URLCONF)
    Membership.objects.create(user=staff_user, workspace=workspace_a, role=Membership.Role.OWNER)
    client = host_client(app_settings.workspace_hostname(workspace_a.slug))
    asked = log_in(client)
    assert asked["Location"] == "/accounts/2fa/authenticate/"
    assert client.post("/accounts/2fa/authenticate/", {"code": totp_code()}).status_code == 302
    assert client.get("/").status_code == 200  # in, as a member
    assert_hidden(client, console_paths(workspace_a))


ADMIN_PATHS = [
    "/admin/",
    "/admin/login/",
    "/admin/staff/auditentry/",
    "/admin/procrastinate/procrastinatejob/",
]


def test_djangos_admin_is_for_superusers_only_with_a_second_factor(owner_a, staff_user, workspace_a):
    boss = make_staff("boss@parley.example")
    boss.is_superuser = True
    boss.save(update_fields=["is_superuser"])
    # Anyone else gets a 404, not the admin's login page: staff who are not superusers, superusers
    # without staff rights, members, anonymous people.
    not_staff_boss = User.objects.create_user("root@example.com", "root-password-1", is_superuser=True)
    for user in (None, owner_a, not_staff_boss):
        assert_hidden(public(user), ADMIN_PATHS)
    staff = public()
    log_in(staff)
    staff.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert staff.get("/staff/").status_code == 200
    assert_hidden(staff, ADMIN_PATHS)

    client = public()
    assert log_in(client, "boss@parley.example")["Location"] == "/accounts/2fa/authenticate/"
    assert_hidden(client, ["/admin/"])  # the password alone signs nobody in
    client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    index = client.get("/admin/")
    assert index.status_code == 200 and "Parley administration" in index.content.decode()
    assert client.get("/admin/login/")["Location"] == "/admin/"
    trail = client.get("/admin/staff/auditentry/")
    assert trail.status_code == 200
    # The audit log is read-only there too: only audit_record writes it.
    assert client.get("/admin/staff/auditentry/add/").status_code == 403
    # Never on a workspace host, even for the superuser who is a member there.
    Membership.objects.create(user=boss, workspace=workspace_a, role=Membership.Role.AGENT)
    with pytest.raises(Resolver404):
        resolve("/admin/", urlconf=settings.ROOT_URLCONF)
    assert host_client("alpha.localhost", boss).get("/admin/").status_code == 404


def test_login_with_an_authenticator_asks_for_its_code_before_anything(staff_user, workspace_a):
    client = public()
    asked = log_in(client)
    assert asked.status_code == 302 and asked["Location"] == "/accounts/2fa/authenticate/"
    page = client.get(asked["Location"])
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    assert_hidden(client, console_paths(workspace_a))  # the password alone signs nobody in
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code." in wrong.content.decode()
    assert client.post("/accounts/2fa/authenticate/", {"code": totp_code()}).status_code == 302
    assert client.get("/staff/").status_code == 200


def test_staff_without_an_authenticator_are_sent_to_set_one_up_then_get_in(staff_user_without_totp):
    client = public()
    log_in(client)  # no code asked: there is no authenticator yet
    sent = client.get("/staff/")
    assert sent.status_code == 302 and sent["Location"] == "/accounts/2fa/totp/activate/"
    # allauth asks for the password again before an authenticator is added (a login is not enough).
    password = client.get(sent["Location"])
    assert password["Location"] == "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    page = client.get(password["Location"]).content.decode()
    assert "The staff console needs two-factor authentication" in page
    again = client.post(password["Location"], {"password": STAFF_PASSWORD})
    assert again.status_code == 302 and again["Location"] == sent["Location"]
    setup = client.get(sent["Location"])
    assert setup.status_code == 200 and "data:image/svg+xml;base64," in setup.content.decode()  # the QR code
    secret = client.session["mfa.totp.secret"]
    activated = client.post(sent["Location"], {"code": totp_code(secret)})
    assert activated.status_code == 302 and activated["Location"] == "/accounts/2fa/recovery-codes/"
    codes = client.get(activated["Location"]).content.decode()  # the recovery codes, to keep
    assert recovery_code(staff_user_without_totp) in codes and "Continue to the staff console" in codes
    # Setting it up proved nothing of this session's login: one code more, here a recovery code.
    asked = client.get("/staff/")
    assert asked.status_code == 302 and asked["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fstaff%2F"
    back = client.post(asked["Location"], {"code": recovery_code(staff_user_without_totp)})
    assert back.status_code == 302 and back["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_session_that_never_passed_two_factor_is_asked_for_a_code(staff_user, workspace_a):
    # Signed in by anything but allauth's login (its stage asks for the code): a session from before
    # the authenticator was set up, say.
    client = public(staff_user)
    for path in console_paths(workspace_a):
        asked = client.get(path)
        assert asked.status_code == 302
        assert asked["Location"].startswith("/accounts/2fa/reauthenticate/?next=%2Fstaff%2F")
    htmx = client.get("/staff/?q=alpha", headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx["HX-Redirect"].startswith("/accounts/2fa/reauthenticate/")
    assert client.post("/accounts/2fa/reauthenticate/?next=/staff/", {"code": totp_code()}).status_code == 302
    assert client.get("/staff/").status_code == 200


def test_staff_with_two_factor_see_every_console_page(staff_client, workspace_a):
    for pattern, path in zip(staff_urls.urlpatterns, console_paths(workspace_a), strict=True):
        page = staff_client.get(path)
        if pattern.name in ACTIONS:
            assert page.status_code == 405, path
            # Sent empty, an action answers the workspace's page with what was missing.
            sent = staff_client.post(path)
            assert sent.status_code == 400 and "Staff console" in sent.content.decode(), path
        else:
            status, text = next(
                (answer for end, answer in NOT_PAGES.items() if path.endswith(end)), (200, "Staff console")
            )
            assert page.status_code == status, path
            assert text in page.content.decode()


def test_losing_staff_access_closes_the_console_at_once(staff_client, staff_user):
    assert staff_client.get("/staff/").status_code == 200
    User.objects.filter(pk=staff_user.pk).update(is_staff=False)
    assert staff_client.get("/staff/").status_code == 404
