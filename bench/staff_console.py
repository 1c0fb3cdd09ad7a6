"""The staff console's workspace list at 10,000 workspaces: server time and queries per request.

    .venv/bin/python bench/staff_console.py [--workspaces 10000] [--runs 30]

Runs in a database of its own (`parley_bench_staff`, made afresh and dropped at the end) on the same
server as the app (embedded, or DATABASE_URL's). The workspaces are rows only, as the list needs
them: claimed workspaces without schemas (bulk_create skips the save() that would make one; the list
never looks into a schema), 1 to 5 members each with their users, a billing account for most, some
suspended, and 30 days of hourly activity for 6 in 10 of them, turned into the list's figures by
the real refresh job (timed too).

Each target is a GET of the real view through the full middleware, in this process, as a staff
user who logged in with password and authenticator code; the figure is the server time of the
request (p50 and p95 of --runs, after two warm-up requests) and its number of SQL queries:
  list            the first page, newest first, and in every other sort (both directions' default)
  deep page       the page after the 5,000th workspace, by its cursor, newest first and by messages
  search          by part of a name; by a member's whole email; by part of an email
  filtered        suspended workspaces on a plan, sorted by failure rate
Target: p95 < 150 ms for each, and the same number of queries for every request.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import timedelta

from _support import database_url, fresh_database, libpq

BENCH_DB = "parley_bench_staff"
TARGET_MS = 150
WORDS = [
    "harbor", "lantern", "copper", "meadow", "orbit", "pixel", "quartz", "river", "summit", "timber",
    "velvet", "willow", "amber", "beacon", "cedar", "delta", "ember", "fjord", "garnet", "hollow",
]  # fmt: skip
KINDS = ["Support", "Shop", "Studio", "Labs", "Travel", "Foods", "Health", "Games"]


def seed(count: int) -> None:
    """`count` claimed workspaces (rows only), their members, accounts and 30 days of activity."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from billing.models import BillingAccount
    from tenants.models import Membership, Workspace

    rng = random.Random(16)
    now = timezone.now()
    workspaces = Workspace.objects.bulk_create(
        [
            Workspace(
                schema_name=f"ws_bench_{i:05d}",
                name=f"{WORDS[i % 20].title()} {KINDS[i % 8]} {i}",
                slug=f"{WORDS[i % 20]}-{i}",
                claimed_at=now - timedelta(minutes=7 * (count - i)),
                suspended_at=now - timedelta(days=1) if i % 97 == 0 else None,
                deletion_due_at=now + timedelta(days=20) if i % 491 == 0 else None,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    sizes = [rng.choice((1, 1, 2, 2, 3, 5)) for _ in workspaces]
    users = User.objects.bulk_create(
        [
            User(email=f"{'owner' if n == 0 else f'agent{n}'}@{w.slug}.example", signup_email="")
            for w, size in zip(workspaces, sizes, strict=True)
            for n in range(size)
        ],
        batch_size=5000,
    )
    members, at = [], 0
    for workspace, size in zip(workspaces, sizes, strict=True):
        for n in range(size):
            role = Membership.Role.OWNER if n == 0 else Membership.Role.AGENT
            members.append(Membership(user=users[at], workspace=workspace, role=role))
            at += 1
    Membership.objects.bulk_create(members, batch_size=5000)
    statuses = ["active"] * 6 + ["trialing", "past_due", "canceled"]
    BillingAccount.objects.bulk_create(
        [
            BillingAccount(workspace=w, plan=rng.choice(["team", "business"]), status=rng.choice(statuses))
            for w in workspaces
            if rng.random() < 0.7
        ],
        batch_size=5000,
    )
    # Six workspaces in ten were active in the last 30 days: 4 to 40 busy hours each.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tenants_workspaceactivity
                (workspace_id, hour, conversations, messages, deliveries, delivery_failures, last_at)
            SELECT w.id, h.hour, (random() * 3)::int, (random() * 40)::int, d.deliveries,
                   (d.deliveries * random() * random())::int, h.hour + interval '17 minutes'
            FROM tenants_workspace w
            CROSS JOIN LATERAL (
                SELECT DISTINCT date_trunc('hour', now() - random() * interval '30 days', 'UTC') AS hour
                FROM generate_series(1, 4 + mod(w.id * 7919, 37)) WHERE w.id IS NOT NULL
            ) h
            CROSS JOIN LATERAL (SELECT (random() * 12)::int AS deliveries WHERE h.hour IS NOT NULL) d
            WHERE w.claimed_at IS NOT NULL AND mod(w.id * 31, 10) < 6
            """
        )
        cursor.execute("ANALYZE")


def refresh_figures() -> list[str]:
    """The refresh job at this size: first run (every active workspace), then after an hour of
    counts in 500 workspaces, then with nothing new."""
    from django.db import connection
    from django.utils import timezone

    from tenants import activity

    lines = []
    started = time.perf_counter()
    touched = activity.workspace_stats_refresh()
    lines.append(f"first run, {touched:,} workspaces: {(time.perf_counter() - started) * 1000:.0f} ms")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tenants_workspaceactivity AS a
                (workspace_id, hour, conversations, messages, deliveries, delivery_failures, last_at)
            SELECT id, date_trunc('hour', now(), 'UTC'), 1, 5, 2, 1, now()
            FROM tenants_workspace WHERE claimed_at IS NOT NULL ORDER BY random() LIMIT 500
            ON CONFLICT (workspace_id, hour) DO UPDATE SET messages = a.messages + 5, last_at = now()
            """
        )
    # A minute later: the workspaces written to in the overlap are looked at again, as in service.
    later = timezone.now() + timedelta(minutes=1)
    started = time.perf_counter()
    touched = activity.workspace_stats_refresh(now=later)
    lines.append(f"after new counts, {touched:,} workspaces: {(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    touched = activity.workspace_stats_refresh(now=later + timedelta(minutes=10))
    lines.append(f"nothing new, {touched:,} workspaces: {(time.perf_counter() - started) * 1000:.0f} ms")
    return lines


def staff_client():
    """The public host, logged in as a staff user through the login and authenticator-code pages."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - the bench's own authenticator key
    user = User.objects.create_user("ops@bench.example", "bench-staff-password-1", is_staff=True)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    TOTP.activate(user, secret)
    client = Client(HTTP_HOST=settings.PARLEY_BASE_DOMAIN)
    asked = client.post("/accounts/login/", {"login": user.email, "password": "bench-staff-password-1"})
    assert asked.status_code == 302, asked.status_code
    if 30 - time.time() % 30 < 2:  # the code must not change on its way
        time.sleep(2.1)
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    done = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302, done.status_code
    return client


def measure(client, path: str, runs: int) -> tuple[float, float, int, int]:
    """p50 and p95 server time (ms), the queries of a request, and the rows it listed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, rows = [], set(), 0
    for i in range(runs + 2):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        if i >= 2:  # the first two warm caches and prepared plans (and read the login's message)
            times.append(elapsed)
            queries.add(len(captured))
        rows = response.content.decode().count('<th scope="row">')
    assert len(queries) == 1, (path, queries)
    return statistics.median(times), sorted(times)[round(0.95 * (len(times) - 1))], queries.pop(), rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspaces", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_DEBUG", "false")  # served as in production, not with debug pages
    fresh_database(BENCH_DB)
    try:
        return run(args.workspaces, args.runs)
    finally:
        drop_database()


def run(count: int, runs: int) -> int:
    from django.conf import settings
    from django.db import connection

    from staff import selectors
    from staff.selectors import WorkspaceFilters

    settings.ALLOWED_HOSTS = ["*"]
    # Billing on, for the plan columns and filters; nothing calls Stripe.
    settings.STRIPE_SECRET_KEY = "sk_test_bench"  # noqa: S105 - no key of anyone's
    started = time.perf_counter()
    seed(count)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenants_membership")
        members = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tenants_workspaceactivity")
        hours = cursor.fetchone()[0]
    print(
        f"seeded {count:,} workspaces, {members:,} members, {hours:,} hours of activity "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    for line in refresh_figures():
        print(f"  stats refresh job, {line}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    client = staff_client()
    deep = {
        sort: selectors.workspace_page(filters=WorkspaceFilters(sort=sort), limit=count // 2).next_cursor
        for sort in ("-created", "-messages")
    }
    from urllib.parse import urlencode

    targets = {"list, newest first": "/staff/"}
    for sort, label in selectors.sort_choices()[1:]:
        if sort.startswith("-") == selectors.SORTS[sort.removeprefix("-")].descending_first:
            targets[f"list by {label.lower()}"] = f"/staff/?sort={sort}"
    targets["deep page (after 5,000), newest first"] = "/staff/?" + urlencode({"cursor": deep["-created"]})
    targets["deep page (after 5,000), by messages"] = "/staff/?" + urlencode(
        {"sort": "-messages", "cursor": deep["-messages"]}
    )
    targets["search by part of a name"] = "/staff/?q=lantern+shop"
    targets["search by a member's email"] = f"/staff/?q=agent2@{_a_slug_with_agents()}.example"
    targets["search by part of an email"] = "/staff/?q=agent4@copper"
    targets["suspended on a plan, by failure rate"] = "/staff/?state=suspended&plan=team&sort=-failures"

    results = {}
    for name, path in targets.items():
        results[name] = measure(client, path, runs)
        p50, p95, queries, rows = results[name]
        print(
            f"  {name:<50} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  {queries} queries  {rows} rows", flush=True
        )

    print()
    constant = len({queries for *_, queries, _ in results.values()}) == 1
    ok = constant
    for name, (p50, p95, queries, _) in results.items():
        passed = p95 < TARGET_MS and constant
        ok &= passed
        print(
            f"staff_console {name} at {count:,} workspaces: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(target < {TARGET_MS} ms), {queries} queries ({'constant' if constant else 'NOT constant'}) "
            f"{'PASS' if passed else 'FAIL'}"
        )
    return 0 if ok else 1


def _a_slug_with_agents() -> str:
    from tenants.models import Membership

    return (
        Membership.objects.filter(user__email__startswith="agent2@")
        .values_list("workspace__slug", flat=True)[:1]
        .get()
    )


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    url = database_url(BENCH_DB)
    with psycopg.connect(libpq(url.rsplit("/", 1)[0] + "/postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
