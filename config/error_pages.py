"""Error pages Django has no handler setting for."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """handler429, which allauth calls when a rate limit refuses a request (a code asked for again
    within 3 minutes, too many failed logins): a page of ours, not a bare 'Too Many Requests'."""
    return render(request, "429.html", status=429)
