"""The reports page and its CSV (owners and admins)."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from config import request_input
from inbox import reports
from tenants.permissions import managers_only

MAX_DAYS = 366
CHART_WIDTH, CHART_HEIGHT = 720, 180


def _range(request: HttpRequest) -> tuple[date, date, str | None]:
    today = timezone.localdate()
    try:
        end = request_input.day(request.GET.get("end"), name="End", default=today)
        start = request_input.day(request.GET.get("start"), name="Start", default=end - timedelta(days=29))
    except request_input.InvalidInput as exc:
        return today - timedelta(days=29), today, str(exc)
    if start > end:
        return today - timedelta(days=29), today, "The start comes before the end."
    if (end - start).days >= MAX_DAYS:
        return end - timedelta(days=MAX_DAYS - 1), end, f"At most {MAX_DAYS} days at once."
    return start, end, None


def _bars(per_day: list[tuple[date, int]]) -> tuple[list[dict], int]:
    """Geometry of the per-day chart, drawn as SVG by the template."""
    top = max([count for _, count in per_day] + [1])
    slot = CHART_WIDTH / len(per_day)
    label_every = max(1, len(per_day) // 8)
    bars = []
    for i, (day, count) in enumerate(per_day):
        height = round(count / top * (CHART_HEIGHT - 20), 1)
        bars.append({
            "x": round(i * slot + slot * 0.15, 1), "width": round(slot * 0.7, 1),
            "y": round(CHART_HEIGHT - height, 1), "height": height, "day": day, "count": count,
            "label": day.strftime("%b %-d") if i % label_every == 0 else "",
            "label_x": round(i * slot + slot / 2, 1),
        })  # fmt: skip
    return bars, top


@managers_only
def reports_page(request: HttpRequest) -> HttpResponse:
    start, end, error = _range(request)
    report = reports.report(start=start, end=end)
    if request.GET.get("format") == "csv":
        return _csv(report)
    bars, top = _bars(report.per_day)
    slowest = max(
        [b.median_first_response for b in report.per_agent if b.median_first_response] or [None], default=None
    )
    return render(
        request,
        "inbox/reports.html",
        {
            "report": report, "error": error, "bars": bars, "top": top,
            "chart_width": CHART_WIDTH, "chart_height": CHART_HEIGHT,
            "slowest_seconds": slowest.total_seconds() if slowest else 0,
        },
    )  # fmt: skip


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str | int | None) -> str | int:
    """A cell of the CSV: numbers as numbers, text (names come from users) never read as a formula."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    # The quote makes Excel, LibreOffice and Google Sheets show the text as it is.
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _csv(report: reports.Report) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="parley-report-{report.start}-{report.end}.csv"'
    writer = csv.writer(response)

    def row(*cells: str | int | None) -> None:
        writer.writerow([csv_cell(cell) for cell in cells])

    def seconds(value: timedelta | None) -> int | None:
        return round(value.total_seconds()) if value is not None else None

    row("section", "name", "conversations", "median_first_response_seconds", "median_resolution_seconds")
    row("total", f"{report.start} to {report.end}", report.total,
        seconds(report.median_first_response), seconds(report.median_resolution))  # fmt: skip
    for day, count in report.per_day:
        row("day", day.isoformat(), count, None, None)
    for section, rows in (("agent", report.per_agent), ("website", report.per_website)):
        for breakdown in rows:
            row(section, breakdown.name, breakdown.conversations,
                seconds(breakdown.median_first_response), seconds(breakdown.median_resolution))  # fmt: skip
    return response
