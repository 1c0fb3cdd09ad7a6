"""Settings → API keys (owners and admins): make one (shown once), see when each was last used, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from api import selectors, services
from api.models import ApiKey
from tenants.permissions import managers_only

_KEY_SESSION_KEY = "parley_api_key_once"


@managers_only
def api_keys(request: HttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            _key, raw = services.api_key_create(
                name=request.POST.get("name", ""), scope=request.POST.get("scope", ""), by=request.user
            )
        except services.ApiKeyInvalid as exc:
            error = str(exc)
        else:
            request.session[_KEY_SESSION_KEY] = raw
            messages.success(request, "API key made. Copy it now: it is shown only once.")
            return redirect("api_keys")
    keys = selectors.keys_with_makers(workspace=request.workspace)
    return render(
        request,
        "api/keys.html",
        {
            "keys": keys,
            "error": error,
            "new_key": request.session.pop(_KEY_SESSION_KEY, None),
            "scopes": ApiKey.Scope.choices,
            "docs_url": "/api/v1/docs",
        },
        status=400 if error else 200,
    )


@require_POST
@managers_only
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=key_id)
    services.api_key_revoke(key=key, reason=f"Revoked by {request.user.name}.")
    messages.success(request, f"“{key.name}” revoked: requests with it are refused from now on.")
    return redirect("api_keys")
