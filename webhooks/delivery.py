"""The worker's side of a delivery: claim it, POST it, record the attempt and what follows.

At least once: a delivery is marked delivered only after a 2xx, in the statement that records the
attempt; a worker that dies in between leaves its job to be retried (tasks.retry_stalled_jobs), with
the same webhook-id. Each failure queues the next attempt in that same statement.

The claim and the record are SQL functions of the workspace schema (webhooks/sql/), each called in
one round trip on the event loop: no thread, no ORM, on the path every delivery takes.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.urls import reverse

from mail import gateway
from tenants import app_settings, secret_box
from tenants.activity import statement_counting
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
    "%(delivery_id)s, %(job_token)s, %(holder)s, %(slots)s, %(lease)s)"
)
# The record, and in the same statement (so the same transaction) the attempt added to the
# workspace's activity counters: one delivery that ended, failed unless it succeeded (a 2xx).
_RECORD = statement_counting(
    written="""
    SELECT * FROM {schema}.webhook_delivery_record(%(delivery_id)s, %(endpoint_id)s, %(slot)s,
        %(holder)s, %(duration_ms)s, %(status_code)s, %(response_body)s, %(error)s,
        %(schedule)s::double precision[], %(disable_after)s)
    """,
    counts="""
    SELECT ws.id, date_trunc('hour', now(), 'UTC'), 0, 0, 1, (written.outcome <> 'succeeded')::integer, now()
    FROM written JOIN tenants_workspace ws ON ws.schema_name = %(schema_name)s
    """,
    answer="SELECT outcome, tell_owners FROM written",
)
_RELEASE = "SELECT {schema}.webhook_lease_release(%(endpoint_id)s, %(slot)s, %(holder)s)"


async def delivery_claim(
    schema_name: str, delivery_id: int, job_token: int, holder: uuid.UUID
) -> Claimed | str:
    """What to send for this job, holding one of the endpoint's slots; or why there is nothing to do
    now: "nothing" (delivered already, an older job, endpoint disabled), "parked" (every slot is
    taken: the next one given back queues this delivery again, so no worker waits for it) or
    "suspended" (the workspace is: unsuspending it queues the delivery again)."""
    row = await workspace_statement(
        schema_statement(_CLAIM, schema_name),
        {
            "delivery_id": delivery_id,
            "job_token": job_token,
            "holder": holder,
            "slots": settings.PARLEY_WEBHOOK_CONCURRENCY,
            # Longer than any attempt can take, so a live delivery never loses its slot.
            "lease": settings.PARLEY_WEBHOOK_TIMEOUT + 15,
        },
    )
    outcome, endpoint_id, slot, url, body, webhook_id, secret_sealed, retired_secrets_sealed = row
    if outcome != "claimed":
        return outcome
    # The secret, then each one a rotation replaced that is still within its overlap.
    secrets_in_use = [secret_box.unseal(sealed) for sealed in (secret_sealed, *retired_secrets_sealed)]
    body = body.encode()
    headers = signing.headers(secrets_in_use, webhook_id=webhook_id, timestamp=int(time.time()), body=body)
    return Claimed(delivery_id, endpoint_id, url, body, headers, slot, holder)


async def lease_release(schema_name: str, claimed: Claimed) -> None:
    await workspace_statement(
        schema_statement(_RELEASE, schema_name),
        {"endpoint_id": claimed.endpoint_id, "slot": claimed.slot, "holder": claimed.holder},
    )


async def delivery_record(schema_name: str, claimed: Claimed, outcome: sender.Outcome) -> str:
    """Store the attempt (and count it in the workspace's activity); then mark the delivery delivered,
    or queue its next attempt, or give up. A 410 disables the endpoint at once; so does failing
    without a break for PARLEY_WEBHOOK_DISABLE_AFTER, and then its owners are emailed. Returns what
    followed."""
    followed, tell_owners = await workspace_statement(
        schema_statement(_RECORD, schema_name),
        {
            "schema_name": schema_name,
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
        gateway.send(
            "webhook_endpoint_disabled",
            to=owner.user.email,
            context={
                "workspace_name": workspace.name,
                "endpoint_url": endpoint.url,
                "failing_since": endpoint.failing_since,
                "disabled_reason": endpoint.disabled_reason,
                # A workspace host's page, named in the workspace hosts' URLconf: a job has no request.
                "endpoint_page": app_settings.workspace_url(
                    workspace.slug, reverse("webhook_endpoint", args=[endpoint.pk], urlconf="config.urls")
                ),
            },
        )


async def deliver(schema_name: str, delivery_id: int, job_token: int) -> str:
    """One job: claim, POST, record. Returns what happened, for the job log.

    A job never waits for its endpoint: when every slot of the endpoint is taken (the database lease,
    PARLEY_WEBHOOK_CONCURRENCY across all workers) the delivery is parked and the job ends, and the
    slot given back next queues it again. A slow receiver holds at most its own slots of the workers,
    and every other endpoint's jobs pass its parked ones."""
    holder = uuid.UUID(int=random.getrandbits(128))  # unique enough for a lease, without a syscall
    claimed = await delivery_claim(schema_name, delivery_id, job_token, holder)
    if claimed == "parked":
        return "endpoint busy: parked until a slot is free"
    if claimed == "suspended":
        return "workspace suspended: pending until it is unsuspended"
    if not isinstance(claimed, Claimed):
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
