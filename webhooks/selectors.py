"""Reads of the webhooks app: endpoints, their delivery log and its attempts."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from webhooks.models import Attempt, Delivery, Endpoint

DELIVERY_PAGE_SIZE = 50


def endpoints_of_workspace() -> QuerySet[Endpoint]:
    """Every endpoint, with its last day's deliveries counted by outcome."""
    since = timezone.now() - timedelta(hours=24)
    recent = Q(deliveries__created_at__gte=since)
    return Endpoint.objects.annotate(
        delivered_24h=Count("deliveries", filter=recent & Q(deliveries__status=Delivery.Status.SUCCEEDED)),
        pending_24h=Count("deliveries", filter=recent & Q(deliveries__status=Delivery.Status.PENDING)),
        failed_24h=Count("deliveries", filter=recent & Q(deliveries__status=Delivery.Status.FAILED)),
    ).order_by("id")


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
