"""Content-Security-Policy on every response Parley serves, a nonce per request, and the endpoint that
hears about violations.

Scripts and styles come from our own origin, or are inline with this request's nonce; nothing else
runs, so HTML that slips into a page (a visitor's name, a message) cannot run script. Templates put
`nonce="{{ csp_nonce }}"` on every <script> and <style> they emit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from widget import rate_limits

REPORT_PATH = "/csp-report/"
# Browsers send one violation per report (report-uri) or a few in a batch (Reporting API), each well
# under 2 KB; anything much larger is not a report.
REPORT_MAX_BYTES = 16 * 1024
# Reports a minute per client address: a page that breaks sends a few, a flood is dropped.
REPORT_RATE_LIMIT = 120

logger = logging.getLogger("parley.csp")


def _stripe_pages() -> str:
    """Billing's Upgrade and Manage billing answer their POST with a redirect to Stripe's Checkout
    or Billing Portal, which form-action must allow (Chromium aborts the navigation otherwise)."""
    from billing.plans import billing_enabled

    return "".join(f" {origin}" for origin in settings.STRIPE_REDIRECT_ORIGINS) if billing_enabled() else ""


def policy(request: HttpRequest, nonce: str) -> str:
    """The policy for a response to `request`."""
    scheme = settings.PARLEY_URL_SCHEME
    base = f"{settings.PARLEY_BASE_DOMAIN}{settings.PARLEY_URL_PORT_SUFFIX}"
    connect = "'self'"
    # The inbox socket (/ws/inbox/) is on the page's own host; not every browser counts ws: and wss:
    # as 'self'. A host Django refuses (its 400 page) needs no socket.
    with contextlib.suppress(DisallowedHost):
        connect += f" {'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        f"connect-src {connect}",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        # Sign-up and "Open" on the public host, and switching workspace, answer a POST with a
        # redirect to another host (a workspace's handoff link); Chromium checks form-action against
        # redirects too.
        f"form-action 'self' {scheme}://{base} {scheme}://*.{base}{_stripe_pages()}",
        f"report-uri {REPORT_PATH}",
    ]
    if request.is_secure():
        # Chromium sends Reporting API reports to https:// endpoints only, and ignores report-uri once
        # report-to is present: over http (development, tests) report-uri alone still reports.
        directives.append("report-to csp")
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    """Give each request a nonce (request.csp_nonce) and each response the policy that names it.

    First in MIDDLEWARE, so that responses made before any other middleware has run (the 404 of an
    unknown host) carry the policy too. A view that sets its own Content-Security-Policy keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            # Django's technical 404 and 500 pages (DEBUG only) have inline scripts and styles and no
            # way to take a nonce in 5.2: under the policy the traceback would be unreadable.
            return response
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy(request, request.csp_nonce)
            if request.is_secure():
                with contextlib.suppress(DisallowedHost):
                    response["Reporting-Endpoints"] = f'csp="{request.build_absolute_uri(REPORT_PATH)}"'
        return response


def nonce(request: HttpRequest) -> dict:
    """Template context: `csp_nonce`, for the nonce attribute of inline and external scripts and styles."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def _violations(payload: object) -> list[dict]:
    """The violations in a report-uri body ({"csp-report": {...}}) or a Reporting API batch
    ([{"type": "csp-violation", "body": {...}}, ...]), with their field names made one style."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        found = [payload["csp-report"]]
    elif isinstance(payload, list):
        found = [
            item["body"]
            for item in payload
            if isinstance(item, dict)
            and item.get("type") == "csp-violation"
            and isinstance(item.get("body"), dict)
        ]
    else:
        return []
    return [{key.replace("-", "").lower(): value for key, value in report.items()} for report in found]


def _field(report: dict, *names: str) -> str:
    for name in names:
        if report.get(name) not in (None, ""):
            return str(report[name])[:300]
    return "-"


@csrf_exempt  # browsers send reports with no token; a report changes nothing
@require_POST
def report(request: HttpRequest) -> HttpResponse:
    """Log the violations a browser reports; 204 whatever they say, 4xx for what is not a report."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if declared > REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    client = request.META.get("REMOTE_ADDR", "-")
    retry_after = rate_limits.retry_after_sync(f"csp-report:{client}", REPORT_RATE_LIMIT)
    if retry_after is not None:
        return HttpResponse(status=429, headers={"Retry-After": str(retry_after)})
    try:
        body = request.body
    except RequestDataTooBig:
        return HttpResponse(status=413)
    if len(body) > REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return HttpResponse(status=400)
    violations = _violations(payload)
    if not violations:
        return HttpResponse(status=400)
    for violation in violations:
        # %r: the values are the browser's (and so anyone's) words; never a line of our log of their own.
        logger.warning(
            "CSP violation: %r blocked %r on %r (%r line %r) sample %r",
            _field(violation, "effectivedirective", "violateddirective"),
            _field(violation, "blockeduri", "blockedurl"),
            _field(violation, "documenturi", "documenturl"),
            _field(violation, "sourcefile"),
            _field(violation, "linenumber"),
            _field(violation, "scriptsample", "sample"),
        )
    return HttpResponse(status=204)
