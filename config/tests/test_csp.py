"""The Content-Security-Policy header on Parley's pages, and the endpoint that hears about violations."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.template import Context, Template
from django.test import Client

from config import csp
from conftest import host_client
from tenants import app_settings

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/accounts/signup/", "/accounts/login/", "/accounts/password/reset/", "/no-such-page/"]
WORKSPACE_PAGES = [
    "/",
    "/inbox/",
    "/settings/",
    "/settings/team/",
    "/reports/",
    "/settings/inbox/",
    "/settings/websites/",
    "/settings/webhooks/",
    "/settings/api-keys/",
    "/profile/",
    "/api/v1/docs",
    "/no-such-page/",
]


def _directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def _check_page(client: Client, path: str) -> str:
    """The page is HTML under a policy whose script nonce is on every <script> and <style> it has."""
    response = client.get(path)
    assert response["Content-Type"].startswith("text/html"), path
    directives = _directives(response["Content-Security-Policy"])
    (nonce,) = re.findall(r"'nonce-([^']+)'", " ".join(directives["script-src"]))
    assert "'unsafe-inline'" not in directives["script-src"] + directives["style-src"], path
    assert "'unsafe-eval'" not in directives["script-src"], path
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["report-uri"] == ["/csp-report/"]
    html = response.content.decode()
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
        # ninja's Swagger page: its scripts are files of our origin, and its settings are JSON.
        if 'type="application/json"' in tag or "/static/ninja/" in tag:
            continue
        assert f'nonce="{nonce}"' in tag, (path, tag)
    assert " style=" not in html, path  # inline style attributes would be refused
    return nonce


def test_every_public_page_has_the_policy_with_a_fresh_nonce(workspaces):
    client = host_client("localhost")
    nonces = [_check_page(client, path) for path in PUBLIC_PAGES]
    assert nonces[1] != _check_page(client, PUBLIC_PAGES[1])
    assert len(set(nonces)) == len(nonces)


def test_every_workspace_page_has_the_policy_with_a_fresh_nonce(client_a, workspace_a):
    nonces = [_check_page(client_a, path) for path in WORKSPACE_PAGES]
    assert len(set(nonces)) == len(nonces)
    anonymous = host_client(app_settings.workspace_hostname(workspace_a.slug))
    _check_page(anonymous, "/accounts/login/")


def test_an_unknown_host_s_404_has_the_policy_too(workspaces):
    response = host_client("nowhere.localhost").get("/")
    assert response.status_code == 404
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]


def test_sockets_and_form_redirects_to_workspace_hosts_are_allowed(client_a, settings):
    directives = _directives(client_a.get("/inbox/")["Content-Security-Policy"])
    host = app_settings.workspace_hostname("alpha")
    assert f"ws://{host}" in directives["connect-src"]
    # Sign-up and "Open" answer a POST on the public host with a redirect to a workspace's host.
    port = settings.PARLEY_URL_PORT_SUFFIX
    assert directives["form-action"] == ["'self'", f"http://localhost{port}", f"http://*.localhost{port}"]


def test_with_billing_on_forms_may_redirect_to_stripes_checkout_and_portal(client_a, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_csp"
    directives = _directives(client_a.get("/inbox/")["Content-Security-Policy"])
    assert directives["form-action"][-2:] == ["https://checkout.stripe.com", "https://billing.stripe.com"]


def test_over_https_reports_also_go_to_the_reporting_api(client_a):
    host = app_settings.workspace_hostname("alpha")
    response = client_a.get("/inbox/", secure=True)
    directives = _directives(response["Content-Security-Policy"])
    assert directives["report-to"] == ["csp"]
    assert response["Reporting-Endpoints"] == f'csp="https://{host}/csp-report/"'
    assert f"wss://{host}" in directives["connect-src"]
    # Over http Chromium would drop Reporting API reports, and report-uri with them.
    plain = client_a.get("/inbox/")
    assert "report-to" not in plain["Content-Security-Policy"]
    assert "Reporting-Endpoints" not in plain


REPORT = {
    "csp-report": {
        "document-uri": "http://alpha.localhost/inbox/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "source-file": "http://alpha.localhost/inbox/",
        "line-number": 12,
        "script-sample": "alert(1)\nFAKE LOG LINE",
    }
}


def _post(client: Client, body: bytes | str, content_type: str = "application/csp-report"):
    return client.post("/csp-report/", body, content_type=content_type)


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_a_violation_report_is_logged_without_csrf_or_login(host, workspaces, caplog):
    client = Client(HTTP_HOST=host, enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING, logger="parley.csp"):
        response = _post(client, json.dumps(REPORT))
    assert response.status_code == 204
    (record,) = [r for r in caplog.records if r.name == "parley.csp"]
    message = record.getMessage()
    assert "'script-src-elem' blocked 'inline' on 'http://alpha.localhost/inbox/'" in message
    assert "\n" not in message  # the sample's line break stays escaped: one log line per report


def test_a_reporting_api_batch_is_logged_per_violation(workspaces, caplog):
    image = {
        "documentURL": "https://x/a",
        "effectiveDirective": "img-src",
        "blockedURL": "https://e.example/",
    }
    style = {"documentURL": "https://x/b", "effectiveDirective": "style-src-attr", "blockedURL": "inline"}
    batch = [
        {"type": "csp-violation", "body": image},
        {"type": "deprecation", "body": {"id": "something"}},
        {"type": "csp-violation", "body": style},
    ]
    with caplog.at_level(logging.WARNING, logger="parley.csp"):
        response = _post(host_client("localhost"), json.dumps(batch), "application/reports+json")
    assert response.status_code == 204
    assert [("img-src" in r.getMessage(), "style-src-attr" in r.getMessage()) for r in caplog.records] == [
        (True, False),
        (False, True),
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe", b"[]", b"{}", b'{"csp-report": "text"}', b"[1, 2]", b"null", b'"x"'],
)
def test_junk_is_a_400_never_a_500(body, workspaces, caplog):
    with caplog.at_level(logging.WARNING, logger="parley.csp"):
        assert _post(host_client("localhost"), body).status_code == 400
    assert [r for r in caplog.records if r.name == "parley.csp"] == []


def test_a_body_past_the_limit_is_refused_unread(workspaces):
    big = json.dumps({"csp-report": {"script-sample": "x" * csp.REPORT_MAX_BYTES}})
    assert _post(host_client("localhost"), big).status_code == 413


def test_only_post(workspaces):
    assert host_client("localhost").get("/csp-report/").status_code == 405


def test_reports_past_the_rate_limit_get_a_429(workspaces, monkeypatch):
    monkeypatch.setattr(csp, "REPORT_RATE_LIMIT", 3)
    client = host_client("localhost")
    statuses = [_post(client, json.dumps(REPORT)).status_code for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]


def test_colors_reach_the_page_s_style_only_when_well_formed():
    class Label:
        def __init__(self, color):
            self.color = color

    labels = [Label("#16a34a"), Label('#000"}</style><script>x'), Label("red")]
    html = Template("{% load inbox_format %}{% color_style labels=labels %}").render(
        Context({"csp_nonce": "abc", "labels": labels})
    )
    assert html == (
        '<style nonce="abc">.label-chip[data-color="#16a34a"]{--label:#16a34a}'
        '.swatch[data-color="#16a34a"]{--swatch:#16a34a}</style>'
    )


def test_the_csrf_failure_page_is_ours_with_nothing_inline(client_a):
    client_a.handler.enforce_csrf_checks = True
    response = client_a.post("/settings/", {"name": "x"})
    assert response.status_code == 403
    assert "<style" not in response.content.decode()
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
    assert "Go back, reload the page" in response.content.decode()


def test_django_s_debug_pages_are_left_without_the_policy(client_a, settings):
    """They carry inline scripts and styles with no nonce: under the policy a traceback is unreadable."""
    settings.DEBUG = True
    response = client_a.get("/no-such-page/")
    assert response.status_code == 404
    assert "Content-Security-Policy" not in response
    settings.DEBUG = False
    assert "Content-Security-Policy" in client_a.get("/no-such-page/")
