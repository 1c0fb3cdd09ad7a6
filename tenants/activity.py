"""Activity counters: what each workspace does, counted hour by hour in the public schema
(WorkspaceActivity), and the staff list's figures computed from them (WorkspaceStats).

The write paths add to an hour's counts in the transaction of what they count, with one upsert
(`INSERT ... ON CONFLICT DO UPDATE` adding to the row): the visitor's messages and the webhook
worker's attempts put it inside the statement that writes them (a data-modifying CTE, see
`activity_add_sql`), so it costs them no round trip; services on Django's connection call
`activity_record`. The workspace is named by its schema, the one the counted rows were written in,
found by its unique schema_name in the same statement (as webhook_event_record does).

What is counted: conversations started (by a visitor's first message), messages written by people
(visitors' messages, agents' replies and private notes, from the inbox or the API; not the thread's
system events, which say what someone did, nor a client_id sent again), and webhook delivery
attempts that ended, with those that failed (anything but a 2xx).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

# The upsert's INSERT ... ON CONFLICT, after a SELECT of (workspace_id, hour, conversations,
# messages, deliveries, delivery_failures, last_at). The row lock it takes is the last lock of the
# transaction that counts, held until its commit: statements put it at their end.
_ACTIVITY_ADD = """
INSERT INTO tenants_workspaceactivity AS a
    (workspace_id, hour, conversations, messages, deliveries, delivery_failures, last_at)
{counts}
ON CONFLICT (workspace_id, hour) DO UPDATE SET
    conversations = a.conversations + EXCLUDED.conversations,
    messages = a.messages + EXCLUDED.messages,
    deliveries = a.deliveries + EXCLUDED.deliveries,
    delivery_failures = a.delivery_failures + EXCLUDED.delivery_failures,
    last_at = GREATEST(a.last_at, EXCLUDED.last_at)
"""


def activity_add_sql(counts: str) -> str:
    """The upsert adding the rows of `counts`, a SELECT of (workspace_id, hour, conversations,
    messages, deliveries, delivery_failures, last_at)."""
    return _ACTIVITY_ADD.format(counts=counts.strip())


def statement_counting(*, written: str, counts: str, answer: str) -> str:
    """One statement that writes (the CTE `written`), adds what it wrote to the activity counters
    (`counts`, a SELECT reading `written`, see `activity_add_sql`), and answers `answer` (a SELECT
    reading `written`). A CTE that writes runs once and to the end whether or not it is read, in the
    statement's transaction; `written`, read twice, runs once."""
    return f"WITH written AS ({written.strip()}),\ncounted AS ({activity_add_sql(counts)})\n{answer.strip()}"


# `hour`: the start of the hour of `at`, in UTC, whatever the connection's time zone.
_ACTIVITY_RECORD = activity_add_sql(
    """
    SELECT w.id, date_trunc('hour', %(at)s::timestamptz, 'UTC'), %(conversations)s, %(messages)s,
        %(deliveries)s, %(delivery_failures)s, %(at)s
    FROM tenants_workspace w WHERE w.schema_name = %(schema_name)s
    """
)


def activity_record(
    *,
    schema_name: str,
    at: datetime,
    conversations: int = 0,
    messages: int = 0,
    deliveries: int = 0,
    delivery_failures: int = 0,
) -> None:
    """Add to the counts of the workspace whose schema is `schema_name`, in the hour of `at`, in the
    caller's transaction (call it last in that transaction: it locks the hour's row until commit)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _ACTIVITY_RECORD,
            {
                "schema_name": schema_name,
                "at": at,
                "conversations": conversations,
                "messages": messages,
                "deliveries": deliveries,
                "delivery_failures": delivery_failures,
            },
        )


# How late a count may commit after the time it carries (last_at is taken before the transaction
# that writes it commits): each refresh looks again at the activity this much before the last one.
REFRESH_OVERLAP = timedelta(minutes=5)

# One statement. The workspaces whose figures can have changed since the last refresh (`since`, the
# latest refreshed_at; none yet: every workspace with activity) are those with counts written since
# (less the overlap), those with an hour that left the 7-day or 24-hour window since, and, in a new
# month, those that counted conversations last month. Their figures are computed again from their
# hours of this month and the last 7 days (the index on hour finds the first three; the unique
# (workspace, hour) index their hours and their latest).
_STATS_REFRESH = """
WITH bounds AS (
    SELECT %(now)s::timestamptz AS now,
           (SELECT max(refreshed_at) FROM tenants_workspacestats) AS since,
           date_trunc('month', %(now)s::timestamptz, 'UTC') AS month_start,
           %(now)s::timestamptz - interval '7 days' AS week_start,
           %(now)s::timestamptz - interval '24 hours' AS day_start
),
touched AS (
    SELECT a.workspace_id FROM tenants_workspaceactivity a, bounds b
    WHERE b.since IS NULL
    UNION
    SELECT a.workspace_id FROM tenants_workspaceactivity a, bounds b
    WHERE a.hour >= date_trunc('hour', b.since - %(overlap)s, 'UTC') AND a.last_at > b.since - %(overlap)s
    UNION
    SELECT a.workspace_id FROM tenants_workspaceactivity a, bounds b
    WHERE a.hour > b.since - interval '7 days' AND a.hour <= b.week_start AND a.messages > 0
    UNION
    SELECT a.workspace_id FROM tenants_workspaceactivity a, bounds b
    WHERE a.hour > b.since - interval '24 hours' AND a.hour <= b.day_start AND a.deliveries > 0
    UNION
    SELECT s.workspace_id FROM tenants_workspacestats s, bounds b
    WHERE date_trunc('month', b.since, 'UTC') < b.month_start AND s.conversations_month > 0
),
figures AS (
    SELECT t.workspace_id,
        COALESCE(sum(a.conversations) FILTER (WHERE a.hour >= b.month_start), 0) AS conversations,
        COALESCE(sum(a.messages) FILTER (WHERE a.hour > b.week_start), 0) AS messages,
        COALESCE(sum(a.deliveries) FILTER (WHERE a.hour > b.day_start), 0) AS deliveries,
        COALESCE(sum(a.delivery_failures) FILTER (WHERE a.hour > b.day_start), 0) AS failures
    FROM touched t CROSS JOIN bounds b
    LEFT JOIN tenants_workspaceactivity a
        ON a.workspace_id = t.workspace_id AND a.hour >= LEAST(b.month_start, b.week_start)
    GROUP BY t.workspace_id
)
INSERT INTO tenants_workspacestats AS s (workspace_id, conversations_month, messages_7d, deliveries_24h,
    delivery_failures_24h, failure_rate_24h, last_activity_at, refreshed_at)
SELECT f.workspace_id, f.conversations, f.messages, f.deliveries, f.failures,
    CASE WHEN f.deliveries > 0 THEN f.failures::double precision / f.deliveries END,
    (SELECT a.last_at FROM tenants_workspaceactivity a
     WHERE a.workspace_id = f.workspace_id ORDER BY a.hour DESC LIMIT 1),
    %(now)s
FROM figures f
-- A workspace deleted meanwhile has no row to point at (its activity went with it).
WHERE EXISTS (SELECT 1 FROM tenants_workspace w WHERE w.id = f.workspace_id)
ON CONFLICT (workspace_id) DO UPDATE SET
    conversations_month = EXCLUDED.conversations_month,
    messages_7d = EXCLUDED.messages_7d,
    deliveries_24h = EXCLUDED.deliveries_24h,
    delivery_failures_24h = EXCLUDED.delivery_failures_24h,
    failure_rate_24h = EXCLUDED.failure_rate_24h,
    last_activity_at = EXCLUDED.last_activity_at,
    refreshed_at = EXCLUDED.refreshed_at
"""


def workspace_stats_refresh(*, now: datetime | None = None) -> int:
    """Compute again the list's figures (WorkspaceStats) of every workspace whose figures can have
    changed since the last refresh, as of `now`; returns how many workspaces that was."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STATS_REFRESH, {"now": now or timezone.now(), "overlap": REFRESH_OVERLAP})
        return cursor.rowcount
