"""Fixtures for every test: workspaces on real PostgreSQL schemas and clients that send the right Host.

django-tenants ships no pytest fixtures. Two workspaces ("alpha", "beta") get their schemas once
per session, by migration (the sign-up path itself is tested in accounts/tests/test_signup.py).
Ordinary tests run inside a transaction that is rolled back; transactional tests (consumers,
servers in another process) use `tx_workspaces`, which restores the rows and empties the schemas.
"""

from __future__ import annotations

import os
import re
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from tenants import app_settings
from tenants.models import Domain, Membership, Workspace

# localstripe and our Checkout stand-in, for billing's tests and the browser's.
pytest_plugins = ["billing.tests.stripe_fixtures"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last, after pytest-django's own ordering: they relax a process-wide check."""
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid)


TEST_WORKSPACES = {
    # slug: (name, schema, owner email, owner name, owner password)
    "alpha": ("Alpha Support", "ws_test_alpha", "owner-a@example.com", "Ana Owner", "secret-password-a"),
    "beta": ("Beta Support", "ws_test_beta", "owner-b@example.com", "Ben Owner", "secret-password-b"),
}


def ensure_test_workspaces() -> SimpleNamespace:
    """Rows for the two test workspaces, over schemas made once by migration and kept for the session.

    A transactional test's flush empties the public tables but leaves the schemas: calling this
    again re-creates the rows without migrating anything.
    """
    found = {}
    for slug, (name, schema, email, display_name, password) in TEST_WORKSPACES.items():
        owner = User.objects.filter(email=email).first()
        if owner is None:
            owner = User.objects.create_user(email, password, display_name=display_name)
            EmailAddress.objects.create(user=owner, email=email, verified=True, primary=True)
        workspace = Workspace.objects.filter(schema_name=schema).first()
        if workspace is None:
            workspace = Workspace(schema_name=schema, name=name, slug=slug, claimed_at=timezone.now())
            workspace.save(verbosity=0)  # migrates the schema only if it does not exist yet
            Domain.objects.create(
                tenant=workspace, domain=app_settings.workspace_hostname(slug), is_primary=True
            )
            Membership.objects.create(user=owner, workspace=workspace, role=Membership.Role.OWNER)
        found[slug] = (workspace, owner)
    return SimpleNamespace(
        alpha=found["alpha"][0], beta=found["beta"][0], owner_a=found["alpha"][1], owner_b=found["beta"][1]
    )


def _truncate_tenant_tables(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(format('%%I.%%I', schemaname, tablename), ', ') FROM pg_tables "
            "WHERE schemaname = %s AND tablename <> 'django_migrations'",
            [schema_name],
        )
        tables = cursor.fetchone()[0]
        if tables:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="session", autouse=True)
def _close_other_connections_at_the_end(django_db_setup, django_db_blocker):
    """Consumers and servers leave connections open in their own threads; the test database can only
    be dropped once they are gone, so end them just before pytest-django drops it."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session")
def workspaces(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return ensure_test_workspaces()


@pytest.fixture
def tx_workspaces(transactional_db, workspaces):
    """The two test workspaces for a transactional test (committed rows, as another connection sees them)."""
    found = ensure_test_workspaces()
    for workspace in (found.alpha, found.beta):
        _truncate_tenant_tables(workspace.schema_name)
    with connection.cursor() as cursor:
        # Queued jobs name rows of those tables by ids, which restart at 1: a job an earlier test
        # left would act on this test's rows (a second delivery of its first event, say). The
        # queue starts empty, as the tables do; so does the list of workers.
        cursor.execute("DELETE FROM procrastinate_jobs")
        cursor.execute("DELETE FROM procrastinate_workers")
    return found


# Each test gets its own copies, read afresh: a test that renames its workspace in memory must
# not hand the next test a stale slug (the database side is rolled back after every test).
@pytest.fixture
def workspace_a(workspaces, db) -> Workspace:
    return Workspace.objects.get(pk=workspaces.alpha.pk)


@pytest.fixture
def workspace_b(workspaces, db) -> Workspace:
    return Workspace.objects.get(pk=workspaces.beta.pk)


@pytest.fixture
def owner_a(workspaces, db) -> User:
    return User.objects.get(pk=workspaces.owner_a.pk)


@pytest.fixture
def owner_b(workspaces, db) -> User:
    return User.objects.get(pk=workspaces.owner_b.pk)


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process (server, worker, manage.py) that works on the test database."""
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"].startswith("/") else db["HOST"]
    password = quote(db.get("PASSWORD") or "")
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        **extra,
    }


def host_client(host: str, user: User | None = None) -> Client:
    """A test client whose every request carries `Host: host`, logged in as `user` on that host."""
    client = Client(HTTP_HOST=host)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def client() -> Client:
    """The public site's client (pytest-django's default would send Host: testserver)."""
    return host_client(settings.PARLEY_BASE_DOMAIN)


@pytest.fixture
def client_a(workspace_a, owner_a) -> Client:
    """The owner of workspace A, logged in on A's host."""
    return host_client(app_settings.workspace_hostname(workspace_a.slug), owner_a)


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    # allauth keeps rate-limit counters in the (Redis) cache; each test starts with none.
    cache.clear()
    yield


def emailed_code(to: str) -> str:
    """The code in the newest mail to `to` (sign-up, address proof, password reset)."""
    from django.core import mail

    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(r"^\s*([A-Z0-9][A-Z0-9-]{4,12}[A-Z0-9])\s*$", message.body, re.MULTILINE)
            assert found, message.body
            return found.group(1)
    raise AssertionError(f"no mail to {to}: {[m.to for m in mail.outbox]}")


def password_reset_by_code(client: Client, email: str, password: str):
    """Reset the password of whoever `email` names, through the code mailed to it; the last answer."""
    asked = client.post("/accounts/password/reset/", {"email": email})
    assert asked.status_code == 302
    confirmed = client.post(asked["Location"], {"code": emailed_code(email)})
    assert confirmed.status_code == 302, confirmed.content.decode()[:2000]
    return client.post(confirmed["Location"], {"password1": password, "password2": password})
