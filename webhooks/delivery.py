"""The worker's side of a delivery: claim it, POST it, record the attempt and what follows.

At least once: a delivery is marked delivered only after a 2xx, in the statement that records the
attempt; a worker that dies in between leaves its job to be retried (tasks.retry_stalled_jobs), with
the same webhook-id. Each failure queues the next attempt in that same statement.

The claim and the record are SQL functions of the workspace schema (webhooks 0003), each called in
one round trip on the event loop: no thread, no ORM, on the path every delivery takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
import weakref
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection

from tenants import secret_box
from tenants.context import in_workspace, schema_statement, workspace_statement
from tenants.models import Membership
from webhooks import sender, signing
from webhooks.models import Endpoint


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    slot: int
    holder: uuid.UUID


_CLAIM = (
    "SELECT * FROM {schema}.webhook_delivery_claim("
    "%(delivery_id)s, %(job_token)s, %(holder)s, %(slots)s, %(lease)s, %(busy_delay)s)"
)
_RECORD = (
    "SELECT * FROM {schema}.webhook_delivery_record(%(delivery_id)s, %(endpoint_id)s, %(slot)s, "
    "%(holder)s, %(duration_ms)s, %(status_code)s, %(response_body)s, %(error)s, "
    "%(schedule)s::double precision[], %(disable_after)s)"
)
_RELEASE = "SELECT {schema}.webhook_lease_release(%(endpoint_id)s, %(slot)s, %(holder)s)"
_REQUEUE = (
    "SELECT {schema}.webhook_deliveries_enqueue(ARRAY[d.id], now() + make_interval(secs => %(delay)s)) "
    "FROM {schema}.webhooks_delivery d "
    "WHERE d.id = %(delivery_id)s AND d.job_token = %(job_token)s AND d.status = 'pending'"
)


async def delivery_claim(
    schema_name: str, delivery_id: int, job_token: int, holder: uuid.UUID
) -> Claimed | None:
    """What to send for this job, holding one of the endpoint's slots; None when there is nothing to
    do now (delivered already, an older job, endpoint disabled, or every slot taken: queued again)."""
    row = await workspace_statement(
        schema_statement(_CLAIM, schema_name),
        {
            "delivery_id": delivery_id,
            "job_token": job_token,
            "holder": holder,
            "slots": settings.PARLEY_WEBHOOK_CONCURRENCY,
            # Longer than any attempt can take, so a live delivery never loses its slot.
            "lease": settings.PARLEY_WEBHOOK_TIMEOUT + 15,
            "busy_delay": settings.PARLEY_WEBHOOK_BUSY_DELAY,
        },
    )
    outcome, endpoint_id, slot, url, body, webhook_id, secret_sealed, previous_secret_sealed = row
    if outcome != "claimed":
        return None
    secrets_in_use = [secret_box.unseal(secret_sealed)]
    if previous_secret_sealed:  # during a rotation's overlap
        secrets_in_use.append(secret_box.unseal(previous_secret_sealed))
    body = body.encode()
    headers = signing.headers(secrets_in_use, webhook_id=webhook_id, timestamp=int(time.time()), body=body)
    return Claimed(delivery_id, endpoint_id, url, body, headers, slot, holder)


async def lease_release(schema_name: str, claimed: Claimed) -> None:
    await workspace_statement(
        schema_statement(_RELEASE, schema_name),
        {"endpoint_id": claimed.endpoint_id, "slot": claimed.slot, "holder": claimed.holder},
    )


async def delivery_requeue(schema_name: str, delivery_id: int, job_token: int) -> None:
    """The endpoint is busy: the same delivery goes back to the queue, due a little later (unless
    this job is stale or the delivery is no longer pending)."""
    await workspace_statement(
        schema_statement(_REQUEUE, schema_name),
        {"delivery_id": delivery_id, "job_token": job_token, "delay": settings.PARLEY_WEBHOOK_BUSY_DELAY},
    )


async def delivery_record(schema_name: str, claimed: Claimed, outcome: sender.Outcome) -> str:
    """Store the attempt; then mark the delivery delivered, or queue its next attempt, or give up.
    A 410 disables the endpoint at once; so does failing without a break for
    PARLEY_WEBHOOK_DISABLE_AFTER, and then its owners are emailed. Returns what followed."""
    followed, tell_owners = await workspace_statement(
        schema_statement(_RECORD, schema_name),
        {
            "delivery_id": claimed.delivery_id,
            "endpoint_id": claimed.endpoint_id,
            "slot": claimed.slot,
            "holder": claimed.holder,
            "duration_ms": outcome.duration_ms,
            "status_code": outcome.status_code,
            "response_body": outcome.body,
            "error": outcome.error,
            "schedule": settings.PARLEY_WEBHOOK_RETRY_SCHEDULE,
            "disable_after": settings.PARLEY_WEBHOOK_DISABLE_AFTER,
        },
    )
    if tell_owners:
        await in_workspace(schema_name, owners_tell_endpoint_disabled, claimed.endpoint_id)
    return followed


def owners_tell_endpoint_disabled(endpoint_id: int) -> None:
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    owners = Membership.objects.filter(
        workspace__schema_name=connection.schema_name, role=Membership.Role.OWNER
    ).select_related("user", "workspace")
    for owner in owners:
        workspace = owner.workspace
        send_mail(
            f"Parley disabled a webhook endpoint of {workspace.name}",
            f"Every delivery to {endpoint.url} has failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC, "
            "so Parley stopped sending to it. Its undelivered events are kept: once the receiver works, "
            f"enable the endpoint in Settings → Webhooks and they go out.\n\n{endpoint.disabled_reason}",
            None,
            [owner.user.email],
        )


# Per event loop: (schema, endpoint id) -> a semaphore of PARLEY_WEBHOOK_CONCURRENCY.
_local_slots: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str, int], asyncio.Semaphore]
] = weakref.WeakKeyDictionary()


def _local_slot(schema_name: str, endpoint_id: int) -> asyncio.Semaphore:
    slots = _local_slots.setdefault(asyncio.get_running_loop(), {})
    key = (schema_name, endpoint_id)
    if key not in slots:
        slots[key] = asyncio.Semaphore(settings.PARLEY_WEBHOOK_CONCURRENCY)
    return slots[key]


async def deliver(schema_name: str, delivery_id: int, endpoint_id: int, job_token: int) -> str:
    """One job: claim, POST, record. Returns what happened, for the job log.

    Within a worker, deliveries to one endpoint wait for one of its slots (cheaply, on the event
    loop); one that waits longer than PARLEY_WEBHOOK_SLOT_WAIT goes back to the queue, so a slow
    receiver holds at most its slots and a few waiting jobs of the worker, never all of them. The
    database lease (delivery_claim) keeps the same limit across workers."""
    slot = _local_slot(schema_name, endpoint_id)
    try:
        async with asyncio.timeout(settings.PARLEY_WEBHOOK_SLOT_WAIT):
            await slot.acquire()
    except TimeoutError:
        await delivery_requeue(schema_name, delivery_id, job_token)
        return "endpoint busy: queued again"
    try:
        return await _deliver_holding_slot(schema_name, delivery_id, job_token)
    finally:
        slot.release()


async def _deliver_holding_slot(schema_name: str, delivery_id: int, job_token: int) -> str:
    holder = uuid.UUID(int=random.getrandbits(128))  # unique enough for a lease, without a syscall
    claimed = await delivery_claim(schema_name, delivery_id, job_token, holder)
    if claimed is None:
        return "nothing to do"
    try:
        outcome = await sender.post(
            claimed.url,
            claimed.body,
            claimed.headers,
            timeout=settings.PARLEY_WEBHOOK_TIMEOUT,
            allow_private=settings.PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS,
            require_https=settings.PARLEY_WEBHOOK_REQUIRE_HTTPS,
        )
    except BaseException:
        await lease_release(schema_name, claimed)  # cancelled: the job is retried later
        raise
    try:
        followed = await delivery_record(schema_name, claimed, outcome)
    except Exception:
        # Not recorded (the database refused the statement or went away): the slot is given back
        # now rather than held until its lease runs out, and the job fails, to run again. If the
        # database is gone, the release fails too and the lease runs out as it would have.
        with contextlib.suppress(Exception):
            await lease_release(schema_name, claimed)
        raise
    return f"{outcome.status_code or outcome.error} in {outcome.duration_ms} ms: {followed}"
