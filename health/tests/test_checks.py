"""The live checks against the real services, and against services that are not there or do not
answer: each is "down" within about a second, with its reason, instead of raising or hanging."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, connections

from health import checks
from health.checks import Level
from health.tests.queue import add_job, add_worker, empty_queue

pytestmark = pytest.mark.django_db

# Generous against a loaded machine, and still far under what a hung check would take (redis-py's
# default retries alone would be several seconds).
QUICK = 3.0


def plain(text: str) -> str:
    """Durations are written with a no-break space before the unit."""
    return text.replace("\xa0", " ")


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel completes the handshake) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_postgres_answers_with_its_version_size_and_connections():
    state = checks.postgres_state()
    assert state.level == Level.OK, state
    facts = dict(state.facts)
    assert facts["Version"].split(".")[0].isdigit()
    assert plain(facts["Database size"]).endswith("MB")
    in_use, max_connections = facts["Connections"].split(" of ")
    assert 1 <= int(in_use) <= int(max_connections)
    assert state.reason.startswith("Answering, ")


def test_postgres_warns_of_a_transaction_left_open(monkeypatch):
    monkeypatch.setattr(checks, "LONG_TRANSACTION", 0)  # any open transaction is "long" for this test
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params) as other:
        other.execute("SELECT 1")  # psycopg opens a transaction, and keeps it until commit
        state = checks.postgres_state()
    assert state.level == Level.WARNING
    assert state.reason.startswith("A transaction has been open for ") and "vacuum" in state.reason
    assert plain(dict(state.facts)["Longest transaction"]).endswith(" s")


def test_postgres_that_cannot_be_reached_is_down_with_the_reason():
    settings_dict = {
        **connection.settings_dict,
        "HOST": "127.0.0.1",
        "PORT": str(closed_port()),
        "OPTIONS": {"connect_timeout": 1},  # and no pool
    }
    connections["unreachable"] = type(connections["default"])(settings_dict, alias="unreachable")
    try:
        started = time.monotonic()
        state = checks.postgres_state(using="unreachable")
        took = time.monotonic() - started
    finally:
        connections["unreachable"].close()
        del connections["unreachable"]
    assert state.level == Level.DOWN and state.facts == ()
    assert state.reason.startswith("No answer: ") and "refused" in state.reason.lower()
    assert took < QUICK


def test_redis_answers_with_its_ping_memory_and_clients():
    state = checks.redis_state()
    assert state.level == Level.OK, state
    facts = dict(state.facts)
    assert facts["PING"].endswith(" ms") and int(facts["Connected clients"]) >= 1
    assert facts["Version"][0].isdigit()
    assert state.reason.startswith("Answering PING in ")


def test_redis_on_a_closed_port_is_down_at_once():
    started = time.monotonic()
    state = checks.redis_state(url=f"redis://127.0.0.1:{closed_port()}/0")
    assert time.monotonic() - started < QUICK
    assert state.level == Level.DOWN and state.reason.startswith("No answer: ")
    assert "refused" in state.reason.lower()


def test_redis_on_a_missing_socket_is_down(tmp_path):
    state = checks.redis_state(url=f"unix://{tmp_path}/redis.sock")
    assert state.level == Level.DOWN and "No such file" in state.reason


def test_redis_that_never_answers_is_down_after_the_probe_timeout():
    with silent_server() as port:
        started = time.monotonic()
        state = checks.redis_state(url=f"redis://127.0.0.1:{port}/0")
        took = time.monotonic() - started
    assert state.level == Level.DOWN and "timeout" in state.reason.lower()
    assert checks.PROBE_TIMEOUT * 0.9 <= took < QUICK


def test_no_worker_ever_is_down(settings):
    empty_queue()
    state = checks.workers_state()
    assert state.level == Level.DOWN
    assert plain(state.reason) == (
        "No worker has sent a heartbeat in the last 30 s; none has ever started. Jobs are not running."
    )


def test_workers_gone_silent_are_down_with_when_they_were_last_heard():
    empty_queue()
    add_worker(heartbeat_ago=600)
    state = checks.workers_state()
    assert state.level == Level.DOWN
    assert "the last one was heard from 10\xa0min ago" in state.reason


def test_a_live_worker_keeping_up_is_ok_and_one_falling_behind_a_warning():
    empty_queue()
    add_worker(heartbeat_ago=3)
    add_job(deferred_ago=5)
    state = checks.workers_state()
    assert state.level == Level.OK and state.reason == "1 worker alive, keeping up with the queue."
    assert dict(state.facts)["Jobs waiting"] == "1" and dict(state.facts)["Oldest waiting"] == "5\xa0s"

    add_job(deferred_ago=130)
    state = checks.workers_state()
    assert state.level == Level.WARNING
    assert plain(state.reason) == "A job has waited 2 min for a worker: 2 waiting."


def test_durations_read_as_people_say_them():
    seconds = (0, 59, 60, 150, 3569, 3570, 5400, 86219, 86400, 200000)
    assert [plain(checks.duration_text(s)) for s in seconds] == [
        "0 s",
        "59 s",
        "1 min",
        "3 min",
        "59 min",
        "1 h",
        "1.5 h",
        "23.9 h",
        "1 day",
        "2.3 days",
    ]
