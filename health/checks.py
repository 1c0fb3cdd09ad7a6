"""The state of the services Parley runs on, checked now: PostgreSQL, Redis and the procrastinate workers.

Each check answers within about a second (PROBE_TIMEOUT) whatever the service does, and turns any
failure into a "down" state with its reason: the page that shows them must not break, or hang, on
the very outage it is there to show.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from health import selectors

PROBE_TIMEOUT = 1.0  # seconds: a statement, a connection attempt, a Redis reply
CONNECTIONS_WARNING = 0.8  # of max_connections in use
LONG_TRANSACTION = 300  # seconds: an open transaction this old holds back vacuum on every table
REDIS_SLOW_PING = 0.1  # seconds; on a healthy network a PING takes well under a millisecond
REDIS_MEMORY_WARNING = 0.9  # of maxmemory, when one is set (past it Redis evicts or refuses writes)
QUEUE_WAIT_WARNING = 60  # seconds a due job may wait for a worker before the workers look behind


class Level(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    DOWN = "down"

    @property
    def label(self) -> str:
        return {"ok": "OK", "warning": "Warning", "down": "Down"}[self.value]


@dataclass(frozen=True)
class ServiceState:
    """One service's state: how it is, why, and the figures behind it (label, text) in display order."""

    service: str
    level: Level
    reason: str
    facts: tuple[tuple[str, str], ...] = ()


def duration_text(seconds: float) -> str:
    """A duration as people say it: "45 s", "12 min", "1.5 h", "1 day", "2.3 days" (a no-break space
    between the number and its unit, so a line never ends between them)."""

    def short(value: float) -> str:
        return f"{value:.1f}".removesuffix(".0")

    if seconds < 59.5:
        return f"{math.floor(seconds + 0.5)}\N{NO-BREAK SPACE}s"
    if seconds < 3570:  # 59.5 min
        return f"{math.floor(seconds / 60 + 0.5)}\N{NO-BREAK SPACE}min"
    if seconds < 86220:  # 23.95 h
        return f"{short(seconds / 3600)}\N{NO-BREAK SPACE}h"
    days = short(seconds / 86400)
    return f"{days}\N{NO-BREAK SPACE}{'day' if days == '1' else 'days'}"


def _reason(error: BaseException) -> str:
    """The first line of an error, which is the one that says what happened."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


@contextmanager
def _time_limited(using: str) -> Iterator[None]:
    """A transaction whose statements PostgreSQL cancels after PROBE_TIMEOUT (SET LOCAL: the limit
    ends with it, so the connection goes back to the pool as it came)."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {int(PROBE_TIMEOUT * 1000)}")
        yield


_POSTGRES_SQL = """
    SELECT current_setting('server_version'),
           pg_database_size(current_database()),
           (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
           current_setting('max_connections')::int,
           (SELECT extract(epoch FROM max(clock_timestamp() - xact_start)) FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid())
"""


def postgres_state(*, using: str = DEFAULT_DB_ALIAS) -> ServiceState:
    """PostgreSQL: reachable, its version and database size, connections in use against its maximum,
    and the age of the longest open transaction (other than this one)."""
    try:
        with _time_limited(using), connections[using].cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(_POSTGRES_SQL)
            version, size, in_use, max_connections, longest = cursor.fetchone()
            answered = time.perf_counter() - started
        longest = None if longest is None else float(longest)  # numeric, from extract()
    except DatabaseError as error:
        return ServiceState("PostgreSQL", Level.DOWN, f"No answer: {_reason(error)}")
    facts = (
        ("Version", version),
        ("Database size", filesizeformat(size)),
        ("Connections", f"{in_use} of {max_connections}"),
        ("Longest transaction", duration_text(longest) if longest is not None else "none open"),
        ("Query time", f"{answered * 1000:.1f} ms"),
    )
    if in_use >= CONNECTIONS_WARNING * max_connections:
        reason = f"{in_use} of {max_connections} connections in use: new ones will soon be refused."
        return ServiceState("PostgreSQL", Level.WARNING, reason, facts)
    if longest is not None and longest >= LONG_TRANSACTION:
        reason = f"A transaction has been open for {duration_text(longest)}: it holds back vacuum."
        return ServiceState("PostgreSQL", Level.WARNING, reason, facts)
    return ServiceState(
        "PostgreSQL", Level.OK, f"Answering, {in_use} of {max_connections} connections.", facts
    )


def redis_state(*, url: str | None = None) -> ServiceState:
    """Redis at `url` (default: REDIS_URL, the cache's and the channel layer's): PING latency, used
    memory, connected clients.

    A client of its own, not inbox.redis_clients': the probe needs a fresh connection with a 1 s limit
    on connecting and on every reply and no retries, where those wait for a pooled connection for 10 s
    and retry a failed command.
    """
    client = redis.Redis.from_url(
        url or settings.REDIS_URL,
        socket_connect_timeout=PROBE_TIMEOUT,
        socket_timeout=PROBE_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()  # connects
        started = time.perf_counter()
        client.ping()
        latency = time.perf_counter() - started
        info = client.info()
    except (redis.RedisError, OSError) as error:
        return ServiceState("Redis", Level.DOWN, f"No answer: {_reason(error)}")
    finally:
        client.close()
    used, limit = info.get("used_memory", 0), info.get("maxmemory", 0)
    facts = (
        ("Version", str(info.get("redis_version", "?"))),
        ("PING", f"{latency * 1000:.2f} ms"),
        ("Used memory", filesizeformat(used) + (f" of {filesizeformat(limit)}" if limit else " (no limit)")),
        ("Connected clients", str(info.get("connected_clients", "?"))),
    )
    if latency >= REDIS_SLOW_PING:
        reason = f"PING took {latency * 1000:.0f} ms: every push to a browser waits as long."
        return ServiceState("Redis", Level.WARNING, reason, facts)
    if limit and used >= REDIS_MEMORY_WARNING * limit:
        reason = f"{used / limit:.0%} of its memory limit in use."
        return ServiceState("Redis", Level.WARNING, reason, facts)
    return ServiceState("Redis", Level.OK, f"Answering PING in {latency * 1000:.2f} ms.", facts)


def workers_state(*, now: datetime | None = None) -> ServiceState:
    """The procrastinate workers: how many are alive (their heartbeat is recent), and whether due jobs
    wait for them."""
    try:
        with _time_limited(DEFAULT_DB_ALIAS):
            queue = selectors.queue_now()
    except DatabaseError as error:
        return ServiceState("Workers", Level.DOWN, f"The job queue could not be read: {_reason(error)}")
    now = now or timezone.now()
    facts = (
        ("Workers alive", str(queue.workers_alive)),
        ("Jobs waiting", str(queue.waiting)),
        ("Oldest waiting", duration_text(queue.oldest_waiting_seconds) if queue.waiting else "none waiting"),
        ("Running", str(queue.running)),
        ("Scheduled later", str(queue.scheduled)),
        ("Failed, kept", str(queue.failed)),
    )
    if queue.workers_alive == 0:
        stalled_after = duration_text(settings.PARLEY_WORKER_STALLED_AFTER)
        if queue.last_heartbeat_at:
            silent = (now - queue.last_heartbeat_at).total_seconds()
            seen = f"the last one was heard from {duration_text(silent)} ago"
        else:
            seen = "none has ever started"
        reason = f"No worker has sent a heartbeat in the last {stalled_after}; {seen}. Jobs are not running."
        return ServiceState("Workers", Level.DOWN, reason, facts)
    if queue.waiting and queue.oldest_waiting_seconds >= QUEUE_WAIT_WARNING:
        reason = (
            f"A job has waited {duration_text(queue.oldest_waiting_seconds)} for a worker: "
            f"{queue.waiting} waiting."
        )
        return ServiceState("Workers", Level.WARNING, reason, facts)
    alive = f"{queue.workers_alive} worker{'s' if queue.workers_alive != 1 else ''} alive"
    return ServiceState("Workers", Level.OK, f"{alive}, keeping up with the queue.", facts)


def service_states() -> list[ServiceState]:
    """Every service's state, in the order the console shows them."""
    return [postgres_state(), redis_state(), workers_state()]
