"""Reads of the webhooks app: the documented objects, endpoints, their delivery log and its attempts."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from webhooks.models import Attempt, Delivery, Endpoint

DELIVERY_PAGE_SIZE = 50

# The schema's functions (webhooks/sql/webhook_*_data.sql) that build each documented object: webhook
# payloads and API responses alike come out of them.
DATA_FUNCTIONS = {
    "conversation": "webhook_conversation_data",
    "message": "webhook_message_data",
    "contact": "webhook_contact_data",
}


def documented_objects(kind: str, ids: list[int]) -> list[dict]:
    """The documented objects for `ids`, in that order (one query); missing ids are left out."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {DATA_FUNCTIONS[kind]}(id) FROM unnest(%s::bigint[]) AS id",  # noqa: S608
            [ids],
        )
        found = {row[0]: json.loads(row[1]) for row in cursor.fetchall() if row[1] is not None}
    return [found[i] for i in ids if i in found]


def documented_object(kind: str, object_id: int) -> dict | None:
    found = documented_objects(kind, [object_id])
    return found[0] if found else None


def endpoints_of_workspace() -> QuerySet[Endpoint]:
    return Endpoint.objects.order_by("id")


def endpoints_with_recent_counts() -> QuerySet[Endpoint]:
    """Every endpoint, with its last day's deliveries counted by outcome (the settings list)."""
    since = timezone.now() - timedelta(hours=24)
    recent = Q(deliveries__created_at__gte=since)
    return endpoints_of_workspace().annotate(
        delivered_24h=Count("deliveries", filter=recent & Q(deliveries__status=Delivery.Status.SUCCEEDED)),
        pending_24h=Count("deliveries", filter=recent & Q(deliveries__status=Delivery.Status.PENDING)),
        failed_24h=Count("deliveries", filter=recent & Q(deliveries__status=Delivery.Status.FAILED)),
    )


def endpoint_by_id(endpoint_id: int) -> Endpoint | None:
    return Endpoint.objects.filter(pk=endpoint_id).first()


def deliveries_of_endpoint(
    endpoint: Endpoint, *, status: str = "", event_type: str = "", before: int | None = None
) -> list[Delivery]:
    """Newest first, a page at a time (`before`: the last id of the previous page)."""
    deliveries = Delivery.objects.filter(endpoint=endpoint).select_related("event")
    if status:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    if before:
        deliveries = deliveries.filter(pk__lt=before)
    return list(deliveries.order_by("-id")[: DELIVERY_PAGE_SIZE + 1])


def delivery_of_endpoint(endpoint: Endpoint, delivery_id: int) -> Delivery | None:
    return Delivery.objects.filter(endpoint=endpoint, pk=delivery_id).select_related("event").first()


def attempts_of_delivery(delivery: Delivery) -> list[Attempt]:
    return list(Attempt.objects.filter(delivery=delivery).order_by("id"))


def hourly_outcomes(endpoint: Endpoint, *, hours: int = 24) -> list[dict]:
    """Attempts per hour over the last `hours`, split into succeeded and failed: the endpoint's chart."""
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    succeeded = Q(status_code__gte=200, status_code__lt=300)
    counted = {
        row["hour"]: row
        for row in Attempt.objects.filter(delivery__endpoint=endpoint, started_at__gte=start)
        .annotate(hour=TruncHour("started_at"))
        .values("hour")
        .annotate(
            ok=Count("id", filter=succeeded), failed=Count("id", filter=~succeeded | Q(status_code=None))
        )
    }
    hours_shown = (start + timedelta(hours=i) for i in range(hours))
    return [
        {
            "hour": hour,
            "ok": counted.get(hour, {}).get("ok", 0),
            "failed": counted.get(hour, {}).get("failed", 0),
        }
        for hour in hours_shown
    ]


RECENT_FAILURES = 10


def recent_failed_attempts(*, limit: int = RECENT_FAILURES, days: int = 7) -> list[Attempt]:
    """The workspace's latest failed delivery attempts (an error, or an answer other than 2xx) of the
    last `days`, newest first, with their delivery's endpoint and event: for the staff console."""
    failed = Q(status_code__isnull=True) | Q(status_code__lt=200) | Q(status_code__gte=300)
    return list(
        Attempt.objects.filter(failed, started_at__gte=timezone.now() - timedelta(days=days))
        .select_related("delivery__endpoint", "delivery__event")
        .order_by("-id")[:limit]
    )
