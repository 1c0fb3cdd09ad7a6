"""Numbers for the reports page, each one SQL aggregate (never a loop over conversations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from inbox.models import Conversation, Website


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5), for intervals as well as numbers."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


FIRST_RESPONSE = ExpressionWrapper(F("first_agent_reply_at") - F("created_at"), output_field=DurationField())
RESOLUTION = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())


@dataclass(frozen=True)
class Breakdown:
    name: str
    conversations: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None


@dataclass(frozen=True)
class Report:
    start: date
    end: date
    per_day: list[tuple[date, int]]  # every day of the range, zeros included
    total: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    per_agent: list[Breakdown]
    per_website: list[Breakdown]


def _range_filter(start: date, end: date) -> Q:
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return Q(created_at__gte=since, created_at__lt=until)


def _medians() -> dict:
    return {
        "conversations": Count("id"),
        "median_first_response": Median(FIRST_RESPONSE, filter=Q(first_agent_reply_at__isnull=False)),
        "median_resolution": Median(RESOLUTION, filter=Q(resolved_at__isnull=False)),
    }


def report(*, start: date, end: date) -> Report:
    """Conversations created from `start` to `end` (inclusive, in the workspace's time zone)."""
    in_range = Conversation.objects.filter(_range_filter(start, end))
    counts = dict(
        in_range.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    days = [
        (start + timedelta(days=i), counts.get(start + timedelta(days=i), 0))
        for i in range((end - start).days + 1)
    ]
    overall = in_range.aggregate(**_medians())
    by_agent = list(in_range.values("assignee_id").annotate(**_medians()).order_by("-conversations"))
    users = User.objects.in_bulk({row["assignee_id"] for row in by_agent if row["assignee_id"]})
    by_website = list(in_range.values("website_id").annotate(**_medians()).order_by("-conversations"))
    websites = Website.objects.in_bulk({row["website_id"] for row in by_website})

    def breakdown(row: dict, name: str) -> Breakdown:
        return Breakdown(name, row["conversations"], row["median_first_response"], row["median_resolution"])

    return Report(
        start=start,
        end=end,
        per_day=days,
        total=overall["conversations"],
        median_first_response=overall["median_first_response"],
        median_resolution=overall["median_resolution"],
        per_agent=[
            breakdown(row, users[row["assignee_id"]].name if row["assignee_id"] in users else "Unassigned")
            for row in by_agent
        ],
        per_website=[
            breakdown(
                row, websites[row["website_id"]].name if row["website_id"] in websites else "Deleted website"
            )
            for row in by_website
        ],
    )
