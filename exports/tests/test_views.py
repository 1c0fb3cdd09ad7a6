"""The export panels and downloads: an owner's on the workspace's settings page, staff's on the console's
workspace page. Who may see, request and download is checked on every request; anyone else gets a 404
(or the 403 page for members who are not owners); staff requests are audited, once each."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from conftest import host_client
from exports import services
from exports.models import WorkspaceExport
from exports.tests.data import fill, zip_files
from staff.models import AuditEntry
from tenants import app_settings
from tenants.models import Membership

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PANEL, DOWNLOAD = "/settings/export/", "/settings/export/download/"


def staff_panel(workspace) -> str:
    return f"/staff/workspaces/{workspace.pk}/export/"


def staff_download(workspace) -> str:
    return f"/staff/workspaces/{workspace.pk}/export/download/"


def on_host(workspace, user=None) -> Client:
    return host_client(app_settings.workspace_hostname(workspace.slug), user)


def member(workspace, role: str, email: str) -> User:
    user = User.objects.create_user(email, "member-password-1")
    Membership.objects.create(user=user, workspace=workspace, role=role)
    return user


def run_job(export: WorkspaceExport) -> WorkspaceExport:
    """The build, run here as the worker runs it (exports/tests/test_tasks.py runs the real worker)."""
    services.export_build(export_id=export.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE args->>'export_id' = %s", [str(export.pk)])
    export.refresh_from_db()
    return export


def ready_export(workspace, user, *, by_staff=False) -> WorkspaceExport:
    export, _ = services.export_request(workspace=workspace, requested_by=user, by_staff=by_staff)
    return run_job(export)


# --- Owners, on their workspace's host


def test_the_settings_page_has_the_panel_with_its_request_button(client_a):
    page = client_a.get("/settings/").content.decode()
    assert 'id="export-panel"' in page and f'hx-post="{PANEL}"' in page and "Request export" in page
    assert "htmx-2.0.11.min.js" in page
    assert 'name="reason"' not in page  # staff only


def test_an_owner_requests_an_export_and_the_panel_polls_until_it_is_ready(client_a, workspace_a, owner_a):
    fill(workspace_a, owner_a, "alpha", visitors=1)
    asked = client_a.post(PANEL, headers=HTMX)
    assert asked.status_code == 200
    html = asked.content.decode()
    assert f'hx-get="{PANEL}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert "Waiting to start" in html and "<form" not in html  # no second request while it runs
    export = WorkspaceExport.objects.get()
    assert (export.workspace, export.requested_by, export.by_staff, export.status) == (
        workspace_a, owner_a, False, "queued"
    )  # fmt: skip

    again = client_a.post(PANEL, headers=HTMX)  # a second request while one waits: that one, shown
    assert WorkspaceExport.objects.count() == 1 and "Waiting to start" in again.content.decode()

    WorkspaceExport.objects.filter(pk=export.pk).update(status="running", progress_done=3, progress_total=8)
    running = client_a.get(PANEL, headers=HTMX).content.decode()
    assert "Preparing the export" in running and "3 of 8 rows · 37 %" in running
    assert 'value="37" max="100"' in running and 'hx-trigger="every 1s"' in running

    run_job(export)
    ready = client_a.get(PANEL, headers=HTMX).content.decode()
    assert "hx-trigger" not in ready  # the polling stops with this answer
    assert f'href="{DOWNLOAD}"' in ready and "Request a new export" in ready
    assert "Download ZIP" in client_a.get("/settings/").content.decode()


def test_without_javascript_a_request_goes_back_to_the_settings_page(client_a):
    asked = client_a.post(PANEL)
    assert asked.status_code == 302 and asked["Location"] == "/settings/"
    page = client_a.get("/settings/").content.decode()
    assert "Export requested: it is being prepared." in page and "Waiting to start" in page
    client_a.post(PANEL)
    assert "An export is already being prepared." in client_a.get("/settings/").content.decode()


def test_a_request_needs_the_csrf_token(workspace_a, owner_a):
    client = Client(HTTP_HOST=app_settings.workspace_hostname(workspace_a.slug), enforce_csrf_checks=True)
    client.force_login(owner_a)
    assert client.post(PANEL, headers=HTMX).status_code == 403
    assert not WorkspaceExport.objects.exists()


def test_the_owner_downloads_the_zip_of_their_workspace(client_a, workspace_a, owner_a):
    fill(workspace_a, owner_a, "alpha", visitors=1)
    export = ready_export(workspace_a, owner_a)
    response = client_a.get(DOWNLOAD)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="parley-alpha-{export.finished_at:%Y-%m-%d}.zip"'
    )
    assert response["Cache-Control"] == "private, no-store"
    files = zip_files(b"".join(response.streaming_content))
    assert json.loads(files["manifest.json"])["workspace"]["slug"] == "alpha"
    assert json.loads(files["contacts.json"])[0]["email"] == "visitor0@alpha.example"


def test_with_nothing_ready_the_download_link_goes_back_to_the_panel(client_a, workspace_a, owner_a):
    for _ in range(2):
        sent = client_a.get(DOWNLOAD)
        assert sent.status_code == 302 and sent["Location"] == "/settings/"
        assert "No export is ready to download" in client_a.get("/settings/").content.decode()
        services.export_request(workspace=workspace_a, requested_by=owner_a)  # queued: not ready either


def test_agents_and_admins_get_the_403_page(workspace_a, owner_a):
    ready_export(workspace_a, owner_a)
    for role in ("agent", "admin"):
        client = on_host(workspace_a, member(workspace_a, role, f"{role}@example.com"))
        for response in (client.get(PANEL), client.post(PANEL), client.get(DOWNLOAD)):
            assert response.status_code == 403 and "owners" in response.content.decode()
        assert client.get("/settings/").status_code == 403
    assert WorkspaceExport.objects.count() == 1


def test_another_workspace_and_strangers_get_a_404(workspace_a, owner_a, workspace_b, owner_b):
    ready_export(workspace_a, owner_a)
    other_owner = on_host(workspace_a, owner_b)
    for response in (other_owner.get(PANEL), other_owner.post(PANEL), other_owner.get(DOWNLOAD)):
        assert response.status_code == 404
    # On their own host, B's owner has B's exports only: none.
    assert on_host(workspace_b, owner_b).get(DOWNLOAD)["Location"] == "/settings/"
    anonymous = on_host(workspace_a).get(DOWNLOAD)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    # And the public host has no such page.
    assert host_client(settings.PARLEY_BASE_DOMAIN, owner_a).get(DOWNLOAD).status_code == 404
    assert WorkspaceExport.objects.filter(workspace=workspace_b).count() == 0


def test_rights_are_those_of_now(client_a, workspace_a, owner_a):
    ready_export(workspace_a, owner_a)
    assert client_a.get(DOWNLOAD).status_code == 200
    Membership.objects.filter(user=owner_a, workspace=workspace_a).update(role="admin")
    assert client_a.get(PANEL).status_code == 403
    assert client_a.get(DOWNLOAD).status_code == 403
    Membership.objects.filter(user=owner_a, workspace=workspace_a).delete()
    assert client_a.get(DOWNLOAD).status_code == 404


def test_owners_never_see_nor_download_a_staff_export(client_a, workspace_a, staff_user):
    ready_export(workspace_a, staff_user, by_staff=True)
    assert client_a.get(DOWNLOAD).status_code == 302
    panel = client_a.get(PANEL).content.decode()
    assert "Download ZIP" not in panel and staff_user.email not in panel


def test_a_failed_export_says_so_without_its_internals(client_a, workspace_a, owner_a):
    export, _ = services.export_request(workspace=workspace_a, requested_by=owner_a)
    WorkspaceExport.objects.filter(pk=export.pk).update(
        status="failed", error="OperationalError: secret detail"
    )
    panel = client_a.get(PANEL).content.decode()
    assert "failed" in panel and "Request it again" in panel and "secret detail" not in panel
    assert "<form" in panel


def test_an_expired_export_is_gone(
    client_a, workspace_a, owner_a, export_dir, django_capture_on_commit_callbacks
):
    export = ready_export(workspace_a, owner_a)
    WorkspaceExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client_a.get(DOWNLOAD).status_code == 302  # past its time: gone, even before the job runs
    with django_capture_on_commit_callbacks(execute=True):
        services.exports_expired_delete()
    assert list(export_dir.iterdir()) == []
    assert "The last export expired" in client_a.get(PANEL).content.decode()


def test_other_methods_are_refused(client_a):
    assert client_a.put(PANEL).status_code == 405
    assert client_a.post(DOWNLOAD).status_code == 405


# --- Staff, on the console


def test_the_console_workspace_page_has_the_staff_panel(staff_client, workspace_a):
    page = staff_client.get(f"/staff/workspaces/{workspace_a.pk}/").content.decode()
    assert 'id="export-panel"' in page and f'hx-post="{staff_panel(workspace_a)}"' in page
    assert 'name="reason"' in page and "htmx-2.0.11.min.js" in page


def test_staff_must_give_a_reason(staff_client, workspace_a):
    for reason in ("", "   "):
        answer = staff_client.post(staff_panel(workspace_a), {"reason": reason}, headers=HTMX)
        assert answer.status_code == 200
        assert "Say why: the reason goes into the audit log." in answer.content.decode()
    long = staff_client.post(staff_panel(workspace_a), {"reason": "x" * 1001}, headers=HTMX)
    assert "Keep the reason to 1,000 characters." in long.content.decode()
    plain = staff_client.post(staff_panel(workspace_a), {"reason": ""})
    assert plain.status_code == 302 and plain["Location"] == f"/staff/workspaces/{workspace_a.pk}/"
    assert not WorkspaceExport.objects.exists() and not AuditEntry.objects.exists()


def test_a_staff_export_is_audited_once_and_downloaded_by_staff(
    staff_client, staff_user, workspace_a, owner_a
):
    fill(workspace_a, owner_a, "alpha", visitors=1)
    asked = staff_client.post(
        staff_panel(workspace_a), {"reason": "Ticket 42: owner lost access"}, headers=HTMX
    )
    html = asked.content.decode()
    assert asked.status_code == 200 and 'hx-trigger="every 1s"' in html and "Waiting to start" in html
    assert staff_user.email in html
    export = WorkspaceExport.objects.get()
    assert export.by_staff and export.requested_by == staff_user
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.staff, entry.workspace, entry.reason) == (
        "export", staff_user, workspace_a, "Ticket 42: owner lost access"
    )  # fmt: skip
    assert entry.after == {"export_id": export.pk} and entry.ip_address == "127.0.0.1"

    # Asked again while it waits: the same export, and nothing more in the log.
    staff_client.post(staff_panel(workspace_a), {"reason": "again"}, headers=HTMX)
    assert WorkspaceExport.objects.count() == 1 and AuditEntry.objects.count() == 1

    run_job(export)
    ready = staff_client.get(staff_panel(workspace_a), headers=HTMX).content.decode()
    assert "hx-trigger" not in ready and f'href="{staff_download(workspace_a)}"' in ready
    response = staff_client.get(staff_download(workspace_a))
    assert response.status_code == 200
    files = zip_files(b"".join(response.streaming_content))
    assert json.loads(files["manifest.json"])["requested_by"] == "staff"
    assert AuditEntry.objects.count() == 1
    page = staff_client.get(f"/staff/workspaces/{workspace_a.pk}/").content.decode()
    assert "Export requested" in page and "Ticket 42: owner lost access" in page  # the audit trail


def test_staff_download_only_exports_staff_asked_for(staff_client, workspace_a, owner_a):
    ready_export(workspace_a, owner_a)  # the owner's: no reason on record for staff to read it
    sent = staff_client.get(staff_download(workspace_a))
    assert sent.status_code == 302 and sent["Location"] == f"/staff/workspaces/{workspace_a.pk}/"
    assert "Download ZIP" not in staff_client.get(staff_panel(workspace_a)).content.decode()


def test_a_failed_staff_export_shows_its_error_escaped(staff_client, staff_user, workspace_a):
    export, _ = services.export_request(workspace=workspace_a, requested_by=staff_user, by_staff=True)
    WorkspaceExport.objects.filter(pk=export.pk).update(
        status="failed", error="ValueError: <script>x</script>"
    )
    panel = staff_client.get(staff_panel(workspace_a)).content.decode()
    assert "ValueError: &lt;script&gt;x&lt;/script&gt;" in panel and "<script>x" not in panel


def test_the_console_answers_404_for_no_such_workspace_and_to_anyone_else(staff_client, workspace_a, owner_a):
    assert staff_client.get("/staff/workspaces/999999/export/").status_code == 404
    assert staff_client.post("/staff/workspaces/999999/export/", {"reason": "r"}).status_code == 404
    assert staff_client.get("/staff/workspaces/999999/export/download/").status_code == 404
    owner = host_client(settings.PARLEY_BASE_DOMAIN, owner_a)
    for response in (
        owner.get(staff_panel(workspace_a)),
        owner.post(staff_panel(workspace_a), {"reason": "r"}),
        owner.get(staff_download(workspace_a)),
    ):
        assert response.status_code == 404
    # Nor is the console on a workspace host, for its owner or anyone.
    assert on_host(workspace_a, owner_a).get(staff_panel(workspace_a)).status_code == 404
    assert not WorkspaceExport.objects.exists()
