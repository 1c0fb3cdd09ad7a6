"""The worker's side of a delivery: claim it, POST it, record the attempt and what follows.

At least once: a delivery is marked delivered only after a 2xx, in the transaction that records the
attempt; a worker that dies in between leaves its job to be retried (tasks.retry_stalled_jobs), with
the same webhook-id. Each failure queues the next attempt in that same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from tenants.context import in_workspace
from tenants.models import Membership
from webhooks import sender, signing
from webhooks.models import Attempt, Delivery, Endpoint, EndpointLease
from webhooks.services import deliveries_enqueue, endpoint_disable, endpoint_secrets_in_use

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    slot: int
    holder: uuid.UUID


def delivery_claim(delivery_id: int, job_token: int, holder: uuid.UUID) -> Claimed | None:
    """What to send for this job, holding one of the endpoint's slots; None when there is nothing to
    do now (delivered already, an older job, endpoint disabled, or every slot taken: queued again)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_related("endpoint", "event")
            .annotate(body=Cast("event__payload", TextField()))
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.job_token != job_token or delivery.status != Delivery.Status.PENDING:
            return None
        endpoint = delivery.endpoint
        if not endpoint.enabled:
            return None  # stays pending: enabling the endpoint queues it again
        slot = _lease_take(endpoint.pk, holder)
        if slot is None:
            _requeue_after_busy_delay(delivery.pk)
            return None
        body = delivery.body.encode()
        webhook_id = delivery.event.webhook_id
        headers = signing.headers(
            endpoint_secrets_in_use(endpoint, now=timezone.now()),
            webhook_id=webhook_id,
            timestamp=int(time.time()),
            body=body,
        )
    return Claimed(delivery.pk, endpoint.pk, endpoint.url, body, headers, slot, holder)


def _requeue_after_busy_delay(delivery_id: int) -> None:
    deliveries_enqueue(
        [delivery_id], at=timezone.now() + timedelta(seconds=settings.PARLEY_WEBHOOK_BUSY_DELAY)
    )


def _lease_take(endpoint_id: int, holder: uuid.UUID) -> int | None:
    """A free slot of the endpoint (one not held, or whose holder's lease ran out), or None."""
    with connection.cursor() as cursor:
        # Two claims at once would both see slot 0 free and one would lose: take turns (until commit).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()), %s)", [endpoint_id])
        cursor.execute(
            """
            INSERT INTO webhooks_endpointlease (endpoint_id, slot, holder, expires_at)
            SELECT %(endpoint)s, s, %(holder)s, now() + make_interval(secs => %(lease)s)
            FROM generate_series(0, %(slots)s - 1) s
            WHERE NOT EXISTS (
                SELECT 1 FROM webhooks_endpointlease l
                WHERE l.endpoint_id = %(endpoint)s AND l.slot = s AND l.expires_at > now())
            LIMIT 1
            ON CONFLICT (endpoint_id, slot) DO UPDATE
                SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                WHERE webhooks_endpointlease.expires_at <= now()
            RETURNING slot
            """,
            {
                "endpoint": endpoint_id,
                "holder": holder,
                "slots": settings.PARLEY_WEBHOOK_CONCURRENCY,
                # Longer than any attempt can take, so a live delivery never loses its slot.
                "lease": settings.PARLEY_WEBHOOK_TIMEOUT + 15,
            },
        )
        row = cursor.fetchone()
    return row[0] if row else None


def lease_release(claimed: Claimed) -> None:
    EndpointLease.objects.filter(
        endpoint_id=claimed.endpoint_id, slot=claimed.slot, holder=claimed.holder
    ).delete()


def delivery_record(claimed: Claimed, outcome: sender.Outcome) -> None:
    """Store the attempt; then mark the delivery delivered, or queue its next attempt, or give up.
    A 410 disables the endpoint at once; so does failing without a break for PARLEY_WEBHOOK_DISABLE_AFTER."""
    now = timezone.now()
    schedule = settings.PARLEY_WEBHOOK_RETRY_SCHEDULE
    with transaction.atomic():
        lease_release(claimed)
        delivery = Delivery.objects.select_for_update().get(pk=claimed.delivery_id)
        Attempt.objects.create(
            delivery=delivery,
            started_at=now - timedelta(milliseconds=outcome.duration_ms),
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            response_body=outcome.body,
            error=outcome.error,
        )
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.last_status_code = now, outcome.status_code
        if outcome.succeeded:
            delivery.status, delivery.failures, delivery.next_attempt_at = Delivery.Status.SUCCEEDED, 0, None
            Endpoint.objects.filter(pk=claimed.endpoint_id, failing_since__isnull=False).update(
                failing_since=None
            )
            delivery.save()
            return
        delivery.failures += 1
        Endpoint.objects.filter(pk=claimed.endpoint_id, failing_since__isnull=True).update(failing_since=now)
        endpoint = Endpoint.objects.get(pk=claimed.endpoint_id)
        if endpoint.enabled and outcome.status_code == 410:
            endpoint_disable(endpoint=endpoint, reason="The receiver answered 410 Gone.")
        elif (
            endpoint.enabled
            and (now - endpoint.failing_since).total_seconds() >= settings.PARLEY_WEBHOOK_DISABLE_AFTER
        ):
            endpoint_disable(
                endpoint=endpoint,
                reason=f"Every delivery failed since {endpoint.failing_since:%b %-d, %H:%M} UTC.",
            )
            transaction.on_commit(lambda: _owners_tell_disabled(endpoint))
        if delivery.failures > len(schedule):
            delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
        delivery.save()
        if delivery.status == Delivery.Status.PENDING and endpoint.enabled:
            deliveries_enqueue([delivery.pk], at=now + timedelta(seconds=schedule[delivery.failures - 1]))


def _owners_tell_disabled(endpoint: Endpoint) -> None:
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


def delivery_requeue(delivery_id: int, job_token: int) -> None:
    """The endpoint is busy: the same delivery goes back to the queue, due a little later."""
    with transaction.atomic():
        if Delivery.objects.filter(
            pk=delivery_id, job_token=job_token, status=Delivery.Status.PENDING
        ).exists():
            _requeue_after_busy_delay(delivery_id)


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
        await in_workspace(schema_name, delivery_requeue, delivery_id, job_token)
        return "endpoint busy: queued again"
    try:
        return await _deliver_holding_slot(schema_name, delivery_id, job_token)
    finally:
        slot.release()


async def _deliver_holding_slot(schema_name: str, delivery_id: int, job_token: int) -> str:
    holder = uuid.UUID(int=random.getrandbits(128))  # unique enough for a lease, without a syscall
    claimed = await in_workspace(schema_name, delivery_claim, delivery_id, job_token, holder)
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
        await in_workspace(schema_name, lease_release, claimed)  # cancelled: the job is retried later
        raise
    await in_workspace(schema_name, delivery_record, claimed, outcome)
    return f"{outcome.status_code or outcome.error} in {outcome.duration_ms} ms"
