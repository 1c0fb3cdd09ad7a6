"""The platform health page as staff see it: the services' states, the charts over 30 days and their
table, a fixed number of queries whatever the data, and a Redis that is down shown as down."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import host_client
from health import services as health_services
from health.tests.queue import add_job, add_worker, empty_queue
from staff.tests.factories import add_workspaces
from tenants.models import WorkspaceActivity

pytestmark = pytest.mark.django_db


CHART = re.compile(r'(<svg class="chart-svg".*?</svg>)\s*</section>', re.S)  # up to the outer </svg>
SERVICE = (
    r'<section class="card health-service health-\w+"[^>]*>\s*<div[^>]*>\s*<h3[^>]*>{}</h3>.*?</section>'
)


def charts_on(html: str) -> list[ET.Element]:
    """Every chart on the page, parsed as XML (each must be well-formed on its own)."""
    return [ET.fromstring(svg) for svg in CHART.findall(html)]  # noqa: S314 - our own page


def service(html: str, name: str) -> str:
    """The card of one service."""
    found = re.search(SERVICE.format(name), html, re.S)
    assert found, name
    return found.group(0)


def test_the_page_shows_each_service_now_and_eight_charts_over_30_days(staff_client, workspaces):
    empty_queue()
    add_worker(heartbeat_ago=2)
    page = staff_client.get("/staff/health/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Platform health</h1>" in html
    assert 'href="/staff/health/" aria-current="page">Health</a>' in html  # in the console's bar
    assert '<a href="/staff/">Workspaces</a>' in html  # not the current page here
    for name in ("PostgreSQL", "Redis", "Workers"):
        assert 'class="badge badge-ok">OK</span>' in service(html, name), name
    charts = charts_on(html)
    assert len(charts) == 8
    names = [chart.find("{http://www.w3.org/2000/svg}title").text for chart in charts]
    assert names[:3] == ["Sign-ups per day", "Active workspaces per day", "Messages per day"]
    # No sample and no delivery yet: the three sampled charts and the failure rate say so rather than
    # draw zeros (the counts are drawn: no sign-up on a day is a zero).
    assert html.count("No data yet") == 4 and "Sampled every 5 minutes by the worker" in html
    assert "No deliveries in these days." in html
    # Alpha and beta signed up today: the table's last row says 2.
    rows = re.findall(r"<tr>\s*<th scope=\"row\".*?</tr>", html, re.S)
    assert len(rows) == 30
    assert re.findall(r'<td class="num">([^<]*)</td>', rows[-1])[0] == "2"


def test_the_charts_and_table_show_the_counted_activity(staff_client, workspaces):
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    WorkspaceActivity.objects.create(
        workspace=workspaces.alpha, hour=hour, messages=40, deliveries=8, delivery_failures=2, last_at=hour
    )
    health_services.health_sample_record(now=now - timedelta(days=2))
    html = staff_client.get("/staff/health/").content.decode()
    assert "40 in 30 days, from visitors and agents." in html
    assert "8 attempts, 2 failed." in html and "25% of attempts failed over 30 days" in html
    assert "Sampled every 5 minutes, on 1 of 30 days." in html and html.count("No data yet") == 0
    yesterday = re.findall(r"<tr>\s*<th scope=\"row\".*?</tr>", html, re.S)[-2]
    cells = re.findall(r'<td class="num">([^<]*)</td>', yesterday)
    assert cells[1:6] == ["1", "40", "8", "2", "25%"]


def test_the_page_costs_the_same_queries_with_a_month_of_data(staff_client, workspaces):
    staff_client.get("/staff/health/")
    with CaptureQueriesContext(connection) as empty:
        assert staff_client.get("/staff/health/").status_code == 200

    now = timezone.now()
    many = add_workspaces(40, prefix="busy", newest_at=now)
    WorkspaceActivity.objects.bulk_create(
        [
            WorkspaceActivity(
                workspace=w, hour=now - timedelta(hours=h), messages=3, deliveries=1, last_at=now
            )
            for w in many
            for h in range(0, 24 * 30, 7)
        ]
    )
    for minutes in range(0, 60 * 24 * 30, 60 * 6):
        health_services.health_sample_record(now=now - timedelta(minutes=minutes))
    add_worker()
    add_job(deferred_ago=400)
    with CaptureQueriesContext(connection) as full:
        html = staff_client.get("/staff/health/").content.decode()
    assert len(full) == len(empty), [q["sql"][:80] for q in full]
    assert "A job has waited 7\xa0min for a worker: 1 waiting." in html


def test_a_redis_that_does_not_answer_is_shown_down_and_the_page_still_renders(staff_client, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    page = staff_client.get("/staff/health/")
    assert page.status_code == 200
    card = service(page.content.decode(), "Redis")
    assert "health-down" in card and 'class="badge badge-danger">Down</span>' in card
    assert "No answer: " in card and "refused" in card.lower()


def test_no_worker_is_shown_down_with_why(staff_client):
    empty_queue()
    card = service(staff_client.get("/staff/health/").content.decode(), "Workers")
    assert "health-down" in card and "none has ever started" in card


def test_only_get(staff_client):
    assert staff_client.post("/staff/health/").status_code == 405


def test_other_people_get_a_404(owner_a):
    for client in (
        host_client(settings.PARLEY_BASE_DOMAIN),
        host_client(settings.PARLEY_BASE_DOMAIN, owner_a),
    ):
        assert client.get("/staff/health/").status_code == 404
