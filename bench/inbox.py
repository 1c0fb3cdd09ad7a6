"""The agent inbox at 1k, 10k and 100k conversations (10 messages each): server time and queries.

    .venv/bin/python bench/inbox.py [--sizes 1000,10000,100000] [--runs 15]

One workspace grows through the sizes (rows written with SQL, as fast as PostgreSQL takes them);
at each size, the full Django stack serves, in this process, through the real middleware:
  list     GET /inbox/?tab=all                 the three-pane page, no conversation open
  open     GET /inbox/c/<id>/ (htmx pane)      a conversation with its 10 messages and contact
  search   GET /inbox/list/?tab=all&q=<word>   full-text over messages and contacts
Printed per size: the median and p95 server time and the number of SQL queries.

Targets: each under 100 ms at the largest size, and the same number of queries at every size.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _support import fresh_database

WORDS = [
    "refund",
    "shipping",
    "invoice",
    "espresso",
    "grinder",
    "warranty",
    "delivery",
    "discount",
    "password",
    "login",
]


def seed(schema: str, website_id: int, upto: int) -> None:
    """Grow the workspace to `upto` conversations, each with a contact and 10 messages."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'SET search_path TO "{schema}", public')
        cursor.execute("SELECT count(*) FROM inbox_conversation")
        have = cursor.fetchone()[0]
        if have >= upto:
            return
        cursor.execute(
            """
            INSERT INTO inbox_contact (website_id, token_hash, email, name, external_id, identity_verified,
                custom_attributes, current_url, user_agent, created_at, last_seen_at)
            SELECT %(website)s, md5('bench' || n), 'visitor' || n || '@example.com', 'Visitor ' || n, '',
                false, '{}', 'https://shop.example/p/' || n, 'Mozilla/5.0 Chrome/120.0 Windows', now(), now()
            FROM generate_series(%(from)s, %(to)s) AS n
            """,
            {"website": website_id, "from": have + 1, "to": upto},
        )
        cursor.execute(
            """
            INSERT INTO inbox_conversation (website_id, contact_id, status, created_at, updated_at,
                last_message_at, unread_count, last_message_preview, priority)
            SELECT %(website)s, c.id, CASE WHEN c.id %% 3 = 0 THEN 'resolved' ELSE 'open' END,
                now() - (c.id || ' seconds')::interval, now(),
                now() - ((%(to)s - c.id) || ' seconds')::interval,
                c.id %% 4, 'Message 10 of conversation ' || c.id, 0
            FROM inbox_contact c WHERE c.id > %(from)s - 1 AND c.id <= %(to)s
            """,
            {"website": website_id, "from": have + 1, "to": upto},
        )
        cursor.execute(
            """
            INSERT INTO inbox_message (conversation_id, contact_id, author_kind, body, created_at)
            SELECT cv.id, cv.contact_id, CASE WHEN m %% 2 = 0 THEN 'agent' ELSE 'visitor' END,
                'Message ' || m || ' of conversation ' || cv.id || ' about '
                    || (%(words)s::text[])[1 + (cv.id * 7 + m) %% 10],
                cv.last_message_at - ((10 - m) || ' minutes')::interval
            FROM inbox_conversation cv, generate_series(1, 10) AS m
            WHERE cv.id > %(from)s - 1 AND cv.id <= %(to)s
            ORDER BY cv.id, m
            """,
            {"from": have + 1, "to": upto, "words": WORDS},
        )
        cursor.execute(
            """
            UPDATE inbox_contact c SET last_message_id = (
                SELECT max(id) FROM inbox_message m WHERE m.contact_id = c.id
            ) WHERE c.last_message_id IS NULL
            """
        )
        cursor.execute("ANALYZE")
        cursor.execute("SET search_path TO public")


def measure(client, path: str, runs: int, **headers) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for i in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, **headers)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        if i == 0:
            queries = len(captured)
    times = times[2:]  # the first runs warm caches and prepared plans
    return statistics.median(times), sorted(times)[int(0.95 * (len(times) - 1))], queries


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    fresh_database("parley_bench_inbox")
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from inbox import services as inbox_services
    from tenants import services
    from tenants.context import workspace_schema

    settings.ALLOWED_HOSTS = ["*"]
    owner = User.objects.create_user("bench@example.com", "bench-password-123", display_name="Bench Agent")
    workspace = services.workspace_create(owner=owner, name="Bench", slug="bench")
    with workspace_schema(workspace.schema_name):
        website, _ = inbox_services.website_create(
            workspace=workspace, name="Shop", allowed_origins="https://shop.example"
        )
    from tenants import app_settings

    client = Client(HTTP_HOST=app_settings.workspace_hostname("bench"))
    client.force_login(owner)

    results: dict[str, list[tuple[int, float, float, int]]] = {"list": [], "open": [], "search": []}
    for size in sizes:
        started = time.perf_counter()
        seed(workspace.schema_name, website.pk, size)
        print(f"{size:>7} conversations seeded in {time.perf_counter() - started:.1f} s", flush=True)
        target = size // 2 + 1  # a conversation in the middle of the history
        pages = {
            "list": ("/inbox/?tab=all", {}),
            "open": (
                f"/inbox/c/{target}/",
                {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "conversation-pane"},
            ),
            "search": ("/inbox/list/?tab=all&q=warranty+grinder", {}),
        }
        for name, (path, headers) in pages.items():
            median, p95, queries = measure(client, path, args.runs, **headers)
            results[name].append((size, median, p95, queries))
            print(f"  {name:<7} median {median:6.1f} ms  p95 {p95:6.1f} ms  {queries:>2} queries", flush=True)

    print()
    ok = True
    for name, rows in results.items():
        largest = rows[-1]
        constant = len({queries for *_, queries in rows}) == 1
        passed = largest[1] < 100 and constant
        ok &= passed
        figures = ", ".join(f"{size // 1000}k {median:.1f} ms" for size, median, _, _ in rows)
        print(
            f"inbox {name}: {figures}; median at {largest[0]:,} {largest[1]:.1f} ms (target < 100 ms), "
            f"queries {'/'.join(str(q) for *_, q in rows)} ({'constant' if constant else 'NOT constant'}) "
            f"{'PASS' if passed else 'FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
