"""Writes of the webhooks app: endpoints and their secrets, events (the outbox), redeliveries."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing import limits
from tenants import secret_box
from tenants.context import workspace_schema
from tenants.models import Workspace
from webhooks import sender, signing
from webhooks.exceptions import EndpointInvalid, SecretsStillSigning
from webhooks.models import TEST_EVENT_TYPE, Delivery, Endpoint, EventType
from webhooks.selectors import DATA_FUNCTIONS


def event_record(
    event_type: str, subject: str, subject_id: int, *, changed: Iterable[str] = (), private: bool = False
) -> int:
    """Record an event about a conversation, message or contact for every endpoint that wants it, in
    the transaction of the change (so a rollback takes it back); returns how many deliveries it queued.
    The data is built by the schema's webhook_<subject>_data function, as on the visitor's path."""
    if not connection.in_atomic_block:
        raise RuntimeError("Record webhook events inside the transaction of the change that caused them.")
    extra = json.dumps({"changed": sorted(changed)} if changed else {})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN webhook_wanted(%(type)s, %(private)s) THEN webhook_event_record("
            f"%(type)s, {DATA_FUNCTIONS[subject]}(%(id)s) || %(extra)s::jsonb, %(private)s) ELSE 0 END",
            {"type": event_type, "private": private, "id": subject_id, "extra": extra},
        )
        return cursor.fetchone()[0]


def deliveries_enqueue(delivery_ids: list[int], *, at: datetime | None = None) -> None:
    """Queue (again) a job for each delivery, due at `at` (now if None); older jobs for them lapse."""
    if delivery_ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT webhook_deliveries_enqueue(%s::bigint[], %s)", [delivery_ids, at])


def deliveries_resume(*, workspace: Workspace) -> int:
    """tenants.hooks.workspace_unsuspended: the deliveries held while the workspace was suspended (a
    job found it so, sent nothing and queued nothing) are queued again now, in the transaction that
    lifts the suspension. Only those: one waiting out a retry keeps its schedule, one in flight its
    single job, and one whose endpoint was turned off meanwhile waits for it to be enabled (which
    queues it). Returns how many."""
    with workspace_schema(workspace.schema_name):
        held = Delivery.objects.filter(held_at__isnull=False)
        ids = list(
            held.filter(status=Delivery.Status.PENDING, endpoint__enabled=True).values_list("pk", flat=True)
        )
        deliveries_enqueue(ids)
        # Every mark, theirs and those delivered, given up or turned off meanwhile: a job found the
        # workspace suspended, and it no longer is.
        held.update(held_at=None)
    return len(ids)


# --- Endpoints


def _clean(*, url: str, description: str, event_types: Iterable[str]) -> tuple[str, str, list[str]]:
    url = (url or "").strip()
    if len(url) > 2000:
        raise EndpointInvalid("The URL is limited to 2,000 characters.")
    try:
        _scheme, host, port, _target = sender.url_check(
            url, require_https=settings.PARLEY_WEBHOOK_REQUIRE_HTTPS
        )
        # The delivery's own check, so the refusal reads as the delivery log would put it.
        sender.target_check(host, port, allow_private=settings.PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS)
    except sender.TargetRefused as exc:
        raise EndpointInvalid(f"This URL cannot receive webhooks: {exc}.") from exc
    types = sorted(set(event_types))
    unknown = [t for t in types if t not in EventType.values]
    if unknown:
        raise EndpointInvalid(f"Unknown event type “{unknown[0][:40]}”.")
    if not types:
        raise EndpointInvalid("Choose at least one event.")
    description = (description or "").strip()
    if len(description) > 200:
        raise EndpointInvalid("The description is limited to 200 characters.")
    return url, description, types


def endpoint_create(
    *, url: str, description: str = "", event_types: Iterable[str], include_private_notes: bool = False
) -> tuple[Endpoint, str]:
    """A new, enabled endpoint; returns it and its signing secret, shown only this once."""
    url, description, types = _clean(url=url, description=description, event_types=event_types)
    secret = signing.secret_generate()
    with transaction.atomic():
        limits.limit_check(limits.WEBHOOK_ENDPOINTS)
        endpoint = Endpoint.objects.create(
            url=url,
            description=description,
            event_types=types,
            include_private_notes=include_private_notes,
            secret_sealed=secret_box.seal(secret),
        )
    return endpoint, secret


def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str | None = None,
    description: str | None = None,
    event_types: Iterable[str] | None = None,
    include_private_notes: bool | None = None,
    enabled: bool | None = None,
    disabled_reason: str = "Turned off by a person.",
) -> Endpoint:
    """Change what is given (None: unchanged) and turn the endpoint on or off, in one transaction:
    a change refused leaves it as it was, on or off."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        if url is not None or description is not None or event_types is not None:
            endpoint.url, endpoint.description, endpoint.event_types = _clean(
                url=endpoint.url if url is None else url,
                description=endpoint.description if description is None else description,
                event_types=endpoint.event_types if event_types is None else event_types,
            )
        if include_private_notes is not None:
            endpoint.include_private_notes = include_private_notes
        if (url, description, event_types, include_private_notes) != (None, None, None, None):
            endpoint.save()  # only turning it on or off: enable and disable write what they change
        if enabled is True and not endpoint.enabled:
            endpoint_enable(endpoint=endpoint)
        elif enabled is False and endpoint.enabled:
            endpoint_disable(endpoint=endpoint, reason=disabled_reason)
    endpoint.refresh_from_db()
    return endpoint


# Signatures a delivery can carry at most: the secret and this many retired ones still in their overlap.
RETIRED_SECRETS_MAX = 5


def endpoint_secret_rotate(*, endpoint: Endpoint) -> str:
    """A new signing secret, returned this once. Every secret it replaces, this one and any earlier
    rotation's still within its overlap, keeps signing until its own overlap (24 hours) ends, so a
    receiver that has not switched yet never sees a request it cannot verify."""
    secret = signing.secret_generate()
    now = timezone.now()
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        signing_still = [
            retired
            for retired in endpoint.retired_secrets
            if datetime.fromisoformat(retired["expires_at"]) > now
        ]
        if len(signing_still) >= RETIRED_SECRETS_MAX:
            until = datetime.fromisoformat(signing_still[0]["expires_at"])
            raise SecretsStillSigning(
                f"{len(signing_still)} earlier secrets still sign every delivery. Rotate again after "
                f"{until:%b %-d, %H:%M} UTC, when the oldest of them stops."
            )
        expires_at = now + timedelta(seconds=settings.PARLEY_WEBHOOK_ROTATION_OVERLAP)
        endpoint.retired_secrets = [
            *signing_still,
            {"sealed": endpoint.secret_sealed, "expires_at": expires_at.isoformat()},
        ]
        endpoint.secret_sealed = secret_box.seal(secret)
        endpoint.save(update_fields=["retired_secrets", "secret_sealed", "updated_at"])
    return secret


def endpoint_disable(*, endpoint: Endpoint, reason: str) -> None:
    """Stop sending to the endpoint. Its undelivered events stay, to go out when it is enabled again."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason=reason[:200], updated_at=timezone.now()
    )
    endpoint.enabled, endpoint.disabled_reason = False, reason[:200]


def endpoint_enable(*, endpoint: Endpoint) -> int:
    """Send again: every delivery still pending, and those that ran out of retries while the endpoint
    was failing, go out now with a fresh retry schedule. Returns how many."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        undelivered = Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING)
        if endpoint.failing_since is not None:
            undelivered = undelivered | Delivery.objects.filter(
                endpoint=endpoint, status=Delivery.Status.FAILED, created_at__gte=endpoint.failing_since
            )
        ids = list(undelivered.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(status=Delivery.Status.PENDING, failures=0)
        endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since = True, "", None
        endpoint.save()
        deliveries_enqueue(ids)
    return len(ids)


def endpoint_delete(*, endpoint: Endpoint) -> None:
    endpoint.delete()


def endpoint_test_send(*, endpoint: Endpoint) -> int:
    """Send a `webhook.test` event to this endpoint only, whatever it subscribes to."""
    data = json.dumps({"endpoint_id": endpoint.pk, "message": "A test event from Parley."})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT webhook_event_record(%s, %s::jsonb, false, %s)", [TEST_EVENT_TYPE, data, endpoint.pk]
        )
        return cursor.fetchone()[0]


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send an event again, now, with a fresh retry schedule and the same webhook-id."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING, failures=0)
        deliveries_enqueue([delivery.pk])
    delivery.refresh_from_db()
    return delivery
