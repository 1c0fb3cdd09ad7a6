"""The platform health page in a real browser, over a month of a small platform: it keeps the
Content-Security-Policy (the charts are SVG, no script), fits a 390 px phone, and each day of a chart
has its tooltip. Photographed at 1440 and 390 px (test-artifacts/staff-health-*.png)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from health.tests.history import seed_history
from health.tests.queue import add_job, add_worker, empty_queue
from staff.tests.conftest import STAFF_EMAIL, STAFF_PASSWORD, make_staff, totp_code
from tests.e2e.conftest import running_server, screenshot
from tests.e2e.test_pages_narrow_browser import _OVERFLOWING
from tests.e2e.test_staff_browser import _log_in, _watched

pytestmark = pytest.mark.django_db(transaction=True)

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def test_the_health_page_draws_a_month_and_fits_a_phone(browser, tx_workspaces):
    make_staff()
    seed_history(now=timezone.now())
    with running_server("staff-health-server", PARLEY_SPARE_SCHEMAS="3") as server:
        page, problems = _watched(browser, DESKTOP)
        _log_in(page, server, STAFF_EMAIL, STAFF_PASSWORD)
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Sign In").click()
        expect(page.get_by_role("link", name="Staff console")).to_be_visible()
        page.goto(server.public_url + "/staff/")
        page.get_by_role("link", name="Health").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Platform health")
        expect(page.get_by_role("img", name="Messages per day")).to_be_visible()
        expect(page.get_by_role("img")).to_have_count(8)
        expect(page.get_by_role("region", name="Redis")).to_contain_text("OK")
        tooltips = page.locator("section[aria-labelledby=chart-messages] .chart-target title")
        expect(tooltips).to_have_count(30)
        expect(tooltips.last).to_have_text(re.compile(r"^\d{1,2} \w{3}: Messages \d[\d,]*$"))

        add_worker()  # a worker's heartbeat, now, for the photographs
        page.reload()
        expect(page.get_by_role("region", name="Workers")).to_contain_text("1 worker alive")
        screenshot(page, "staff-health-1440")
        page.set_viewport_size(PHONE)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(_OVERFLOWING)
        screenshot(page, "staff-health-390")
        page.get_by_text("Every day as a table").click()
        screenshot(page, "staff-health-table-390")

        # The workers stop: no heartbeat for a while, and a job waits.
        empty_queue()
        add_worker(heartbeat_ago=300)
        add_job(deferred_ago=240)
        page.set_viewport_size(DESKTOP)
        page.reload()
        workers = page.get_by_role("region", name="Workers")
        expect(workers).to_contain_text("Down")
        expect(workers).to_contain_text("the last one was heard from 5 min ago")
        screenshot(page, "staff-health-workers-down-1440")
        assert problems == []
    assert width <= PHONE["width"], wide
