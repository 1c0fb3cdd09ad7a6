"""Webhook delivery: commit-to-receipt latency, deliveries per second per worker, and a failing receiver.

    .venv/bin/python bench/webhooks.py [--events 10000] [--rate 150] [--backlog 5000] [--failing-events 3000]

A database of its own (`parley_bench_webhooks`) on the app's server; one workspace with an endpoint
for message.created pointing at a receiver on loopback (bench/webhook_receiver.py, its own process);
one procrastinate worker process (`manage.py procrastinate worker`, the settings' concurrency).

  latency     --events visitor messages committed at --rate per second while the worker runs: the time
              from each commit to the receiver getting its webhook (p50/p95/p99). Target: p99 < 1 s.
  throughput  --backlog messages committed with the worker stopped, then the worker started: deliveries
              per second while it drains them.
  failing     --failing-events messages at --rate/s while the receiver answers 500 for its first 30 s
              and holds every 50th request 3 s (the sender's timeout is set to 1 s and the retry
              schedule to 1,2,4,8,16,32,60 s for the run, so it ends in minutes): every event must
              arrive with a 2xx, and any event received twice must carry the same webhook-id.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _support import PROJECT_DIR, free_port, fresh_database, stop, wait_listening

BENCH_DB = "parley_bench_webhooks"


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "webhooks"],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_receiver(port: int, log: Path, *extra: str) -> subprocess.Popen:
    receiver = subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "bench" / "webhook_receiver.py"), str(port), str(log), *extra]
    )
    return wait_listening(receiver, port, "the webhook receiver")


def commit_messages(schema: str, contact_ids: list[int], count: int, rate: float) -> dict[int, float]:
    """`count` visitor messages, each its own transaction, paced at `rate` per second; commit times by id.

    The time is read by the transaction's first on-commit callback, right after COMMIT returns and
    before the message's own (its push to Redis), which a worker may well outrun."""
    from django.db import transaction

    from inbox import services
    from tenants.context import workspace_schema

    committed = {}
    started = time.perf_counter()
    with workspace_schema(schema):
        for i in range(count):
            due = started + i / rate if rate else 0
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            commit_time = []
            with transaction.atomic():
                transaction.on_commit(lambda at=commit_time: at.append(time.time()))
                message, _ = services.message_from_visitor(
                    contact_id=contact_ids[i % len(contact_ids)], body=f"Bench message {i}"
                )
            committed[message.pk] = commit_time[0]
    return committed


def undelivered(schema: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        query = f'SELECT count(*) FROM "{schema}".webhooks_delivery WHERE status <> %s'  # noqa: S608
        cursor.execute(query, ["succeeded"])
        return cursor.fetchone()[0]


def wait_delivered(schema: str, timeout: float) -> float:
    started = time.monotonic()
    while undelivered(schema):
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{undelivered(schema)} deliveries still undelivered after {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


def read_log(log: Path) -> list[tuple[float, str, int, int]]:
    rows = []
    for line in log.read_text().splitlines():
        at, webhook_id, message_id, status = line.split()
        rows.append((float(at), webhook_id, int(message_id), int(status)))
    return rows


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def check_delivery(committed: dict[int, float], rows: list) -> tuple[int, int, int]:
    """(lost, events received more than once, of those any with two webhook-ids)."""
    ok = {message_id for _, _, message_id, status in rows if 200 <= status < 300}
    ids_by_message = defaultdict(set)
    receipts = defaultdict(int)
    for _, webhook_id, message_id, _ in rows:
        ids_by_message[message_id].add(webhook_id)
        receipts[message_id] += 1
    lost = len(set(committed) - ok)
    repeated = sum(1 for m in committed if receipts[m] > 1)
    mixed = sum(1 for m in committed if len(ids_by_message[m]) > 1)
    return lost, repeated, mixed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--failing-events", type=int, default=3000)
    args = parser.parse_args()

    url = fresh_database(BENCH_DB)
    from accounts.models import User
    from inbox import services as inbox_services
    from tenants import services
    from tenants.context import workspace_schema
    from webhooks import services as webhook_services

    owner = User.objects.create_user("bench@example.com", "bench-password-123")
    workspace = services.workspace_create(owner=owner, name="Bench", slug="bench")
    schema = workspace.schema_name
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-webhooks-"))
    worker_env = {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "LOG_LEVEL": "ERROR",
    }
    with workspace_schema(schema):
        website, _ = inbox_services.website_create(workspace=workspace, name="Shop", allowed_origins="")
        contacts = [inbox_services.contact_for_visitor(website=website, token=None)[0].pk for _ in range(200)]
    results = []

    # 1. Latency with a healthy receiver.
    port, log = free_port(), tmp / "healthy.log"
    receiver = start_receiver(port, log)
    with workspace_schema(schema):
        webhook_services.endpoint_create(
            url=f"http://127.0.0.1:{port}/hooks", event_types=["message.created"]
        )
    worker = start_worker(worker_env)
    time.sleep(2)  # the worker is up and listening
    try:
        committed = commit_messages(schema, contacts, args.events, args.rate)
        wait_delivered(schema, timeout=300)
    finally:
        stop(worker)
        stop(receiver)
    rows = read_log(log)
    first_receipt = {}
    for at, _, message_id, status in rows:
        if 200 <= status < 300:
            first_receipt.setdefault(message_id, at)
    latencies = [(first_receipt[m] - committed[m]) * 1000 for m in committed if m in first_receipt]
    lost, repeated, _ = check_delivery(committed, rows)
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    print(
        f"latency: {len(committed):,} events at {args.rate:.0f}/s, commit to receipt "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {max(latencies):.0f} ms; "
        f"lost {lost}, received twice {repeated}",
        flush=True,
    )
    results.append(
        (f"webhooks latency: p99 {p99:.0f} ms (target < 1000 ms), lost {lost}", p99 < 1000 and lost == 0)
    )

    # 2. Throughput: a backlog drained by one worker.
    with workspace_schema(schema):
        webhook_services.endpoint_delete(endpoint=webhook_services.Endpoint.objects.get())
    port, log = free_port(), tmp / "backlog.log"
    receiver = start_receiver(port, log)
    with workspace_schema(schema):
        webhook_services.endpoint_create(
            url=f"http://127.0.0.1:{port}/hooks", event_types=["message.created"]
        )
    committed = commit_messages(schema, contacts, args.backlog, 0)
    worker = start_worker(worker_env)
    try:
        started = time.time()
        wait_delivered(schema, timeout=600)
        rows = read_log(log)
        drained = max(at for at, *_ in rows) - min(at for at, *_ in rows)
    finally:
        stop(worker)
        stop(receiver)
    lost, _, _ = check_delivery(committed, rows)
    per_second = len(committed) / drained if drained else float("inf")
    print(
        f"throughput: {len(committed):,} queued events drained by 1 worker in {drained:.1f} s "
        f"(first receipt {min(at for at, *_ in rows) - started:.1f} s "
        f"after start): {per_second:.0f} deliveries/s; lost {lost}",
        flush=True,
    )
    results.append((f"webhooks throughput: {per_second:.0f} deliveries/s per worker, lost {lost}", lost == 0))

    # 3. A receiver that fails for 30 s and hangs on some requests.
    with workspace_schema(schema):
        webhook_services.endpoint_delete(endpoint=webhook_services.Endpoint.objects.get())
    port, log = free_port(), tmp / "failing.log"
    receiver = start_receiver(port, log, "--fail-for", "30", "--hang-every", "50", "--hang-for", "3")
    with workspace_schema(schema):
        webhook_services.endpoint_create(
            url=f"http://127.0.0.1:{port}/hooks", event_types=["message.created"]
        )
    worker = start_worker(
        worker_env | {"PARLEY_WEBHOOK_TIMEOUT": "1", "PARLEY_WEBHOOK_RETRY_SCHEDULE": "1,2,4,8,16,32,60"}
    )
    time.sleep(2)
    try:
        committed = commit_messages(schema, contacts, args.failing_events, args.rate)
        took = wait_delivered(schema, timeout=600)
    finally:
        stop(worker)
        stop(receiver)
    rows = read_log(log)
    lost, repeated, mixed = check_delivery(committed, rows)
    failures = sum(1 for *_, status in rows if status >= 300)
    print(
        f"failing receiver: {len(committed):,} events, {len(rows):,} requests ({failures:,} answered 500), "
        f"all delivered {took:.0f} s after the last commit; lost {lost}; received more than once {repeated} "
        f"(all with one webhook-id each: {mixed == 0})",
        flush=True,
    )
    results.append(
        (
            f"webhooks failing receiver: lost {lost}, duplicates with another webhook-id {mixed}",
            lost == 0 and mixed == 0,
        )
    )

    print()
    for line, passed in results:
        print(f"{line}  {'PASS' if passed else 'FAIL'}")
    return 0 if all(passed for _, passed in results) else 1


if __name__ == "__main__":
    sys.exit(main())
