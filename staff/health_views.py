"""The console's platform health page: PostgreSQL, Redis and the workers now, and 30 days of charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from health import checks
from health import selectors as health_selectors
from staff import charts
from staff.charts import Series
from staff.permissions import staff_only


@dataclass(frozen=True)
class Chart:
    key: str  # the heading's id
    title: str
    note: str  # one line under the title: the figure that sums the chart up, or how it is made
    svg: SafeString


def _day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def _charts(history: health_selectors.PlatformHistory) -> list[Chart]:
    """The page's charts, in reading order: the product's growth and use, then the machinery."""
    labels = [_day_label(day) for day in history.days]
    activity, samples = history.activity, history.samples
    deliveries = sum(day.deliveries for day in activity)
    failures = sum(day.delivery_failures for day in activity)
    sampled_days = sum(1 for day in samples if day.samples)

    def sampled(what: str) -> str:
        if not sampled_days:
            return "Sampled every 5 minutes by the worker (health.tasks.sample_platform): none yet."
        return f"{what}. Sampled every 5 minutes, on {sampled_days} of {len(samples)} days."

    return [
        Chart(
            "signups",
            "Sign-ups per day",
            f"{sum(history.signups):,} in {len(labels)} days.",
            charts.bar_chart(
                title="Sign-ups per day", labels=labels, series=[Series("Sign-ups", history.signups)]
            ),
        ),
        Chart(
            "active",
            "Active workspaces per day",
            "Workspaces where a conversation started or a message was written.",
            charts.line_chart(
                title="Active workspaces per day",
                labels=labels,
                series=[Series("Active workspaces", [day.active_workspaces for day in activity])],
            ),
        ),
        Chart(
            "messages",
            "Messages per day",
            f"{sum(day.messages for day in activity):,} in {len(labels)} days, from visitors and agents.",
            charts.bar_chart(
                title="Messages per day",
                labels=labels,
                series=[Series("Messages", [day.messages for day in activity])],
            ),
        ),
        Chart(
            "deliveries",
            "Webhook deliveries per day",
            f"{deliveries:,} attempts, {failures:,} failed.",
            charts.bar_chart(
                title="Webhook deliveries per day",
                labels=labels,
                series=[
                    Series(
                        "Delivered", [day.deliveries - day.delivery_failures for day in activity], "success"
                    ),
                    Series("Failed", [day.delivery_failures for day in activity], "danger"),
                ],
            ),
        ),
        Chart(
            "failure-rate",
            "Webhook failure rate",
            (
                f"{charts.percent(failures / deliveries)} of attempts failed over {len(labels)} days; "
                "no point on a day without deliveries."
                if deliveries
                else "No deliveries in these days."
            ),
            charts.line_chart(
                title="Webhook failure rate",
                labels=labels,
                series=[Series("Failed", [day.failure_rate for day in activity], "danger")],
                fmt=charts.percent,
                minimum_top=0.04,
                whole=False,
            ),
        ),
        Chart(
            "queue-depth",
            "Queue depth",
            sampled("Each day's peak of due jobs waiting for a worker"),
            charts.line_chart(
                title="Queue depth, daily peak",
                labels=labels,
                series=[Series("Jobs waiting", [day.queue_depth_peak for day in samples], "warning")],
            ),
        ),
        Chart(
            "oldest-job",
            "Oldest job's wait",
            sampled("Each day's longest wait of a due job"),
            charts.line_chart(
                title="Oldest job's wait, daily peak",
                labels=labels,
                series=[Series("Oldest job's wait", [day.oldest_job_age_peak for day in samples], "warning")],
                fmt=checks.duration_text,
                minimum_top=60,
                steps=charts.DURATION_STEPS,
            ),
        ),
        Chart(
            "spare-pool",
            "Spare pool",
            sampled(f"Each day's low; the worker keeps {settings.PARLEY_SPARE_SCHEMAS} ready schemas"),
            charts.line_chart(
                title="Spare pool, daily low",
                labels=labels,
                series=[Series("Spare schemas", [day.spare_pool_low for day in samples], "success")],
            ),
        ),
    ]


def _table(history: health_selectors.PlatformHistory) -> list[tuple[date, list[str]]]:
    """Every charted value by day, written as the charts write them (a dash where there is none)."""

    def text(value: float | None, fmt=charts.count) -> str:
        return "\N{EN DASH}" if value is None else fmt(value)

    return [
        (
            day,
            [
                text(signups),
                text(activity.active_workspaces),
                text(activity.messages),
                text(activity.deliveries),
                text(activity.delivery_failures),
                text(activity.failure_rate, charts.percent),
                text(samples.queue_depth_peak),
                text(samples.oldest_job_age_peak, checks.duration_text),
                text(samples.spare_pool_low),
            ],
        )
        for day, signups, activity, samples in zip(
            history.days, history.signups, history.activity, history.samples, strict=True
        )
    ]


@staff_only  # first: anyone else gets a 404 whatever the method
@require_GET
def platform_health(request: HttpRequest) -> HttpResponse:
    history = health_selectors.platform_history()
    context = {
        "states": checks.service_states(),
        "charts": _charts(history),
        "history": history,
        "table": _table(history),
    }
    return render(request, "staff/health.html", context)
