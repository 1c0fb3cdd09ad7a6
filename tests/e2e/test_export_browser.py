"""Settings → Export in a real browser, with a real worker: the owner requests an export, the panel's
progress reloads by itself (htmx polling under our CSP) until the download link shows, and the
browser downloads the ZIP."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import expect

from exports.tests.data import fill
from tests.e2e.conftest import logged_in_page, off_the_browser_thread, running_server, screenshot
from webhooks.tests.workers import start_worker, stop

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_requests_watches_and_downloads_an_export(browser, tx_workspaces, tmp_path):
    off_the_browser_thread(fill, tx_workspaces.alpha, tx_workspaces.owner_a, "alpha")
    env = {"PARLEY_EXPORT_DIR": str(tmp_path / "exports")}
    with running_server("export-server", **env) as server:
        page = logged_in_page(browser, server, tx_workspaces.owner_a, height=900, accept_downloads=True)
        page.goto(server.workspace_url("alpha", "/settings/"))
        panel = page.locator("#export-panel")
        panel.get_by_role("button", name="Request export").click()
        expect(panel).to_contain_text("Waiting to start")  # swapped in, no reload
        screenshot(page, "export-queued")

        worker = start_worker(**env)  # only now: the panel polls what the worker does
        try:
            download_link = panel.get_by_role("link", name="Download ZIP")
            expect(download_link).to_be_visible(timeout=30_000)
        finally:
            stop(worker)
        expect(panel).not_to_have_attribute("hx-trigger", "every 1s")
        screenshot(page, "export-ready")
        with page.expect_download() as downloading:
            download_link.click()
        path = downloading.value.path()
        assert downloading.value.suggested_filename.startswith("parley-alpha-")
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        assert manifest["workspace"]["slug"] == "alpha" and manifest["counts"]["contacts.json"] == 2
        assert page.console_errors == []
