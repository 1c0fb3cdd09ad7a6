"""Workspace settings for websites: owners and admins only."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inbox import selectors, services
from inbox.forms import WebsiteForm
from inbox.models import Website
from tenants import app_settings
from tenants.permissions import managers_only

_SECRET_SESSION_KEY = "parley_identity_secret_once"  # noqa: S105 - a session key name, not a secret


def _website_or_404(website_id: int) -> Website:
    website = selectors.website_by_id(website_id)
    if website is None:
        raise Http404("No such website.")
    return website


def widget_csp_sources() -> dict[str, str]:
    """What a customer's Content-Security-Policy must allow for the widget: the script, and both its
    connections (the WebSocket and the HTTP fallback). Its styles need no source (see the README)."""
    origin = app_settings.public_url("")
    socket = origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return {"script_src": origin, "connect_src": f"{origin} {socket}"}


@managers_only
def website_list(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/website_list.html", {"websites": selectors.websites_of_workspace()})


@managers_only
def website_create(request: HttpRequest) -> HttpResponse:
    form = WebsiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        website, identity_secret = services.website_create(
            workspace=request.workspace,
            name=form.cleaned_data["name"],
            allowed_origins=form.cleaned_data["allowed_origins_text"],
            **form.appearance(),
        )
        request.session[_SECRET_SESSION_KEY] = identity_secret
        messages.success(request, f"{website.name} is ready: paste the snippet into its pages.")
        return redirect("website_detail", website_id=website.pk)
    return render(request, "inbox/website_form.html", {"form": form, "creating": True})


@managers_only
def website_detail(request: HttpRequest, website_id: int) -> HttpResponse:
    website = _website_or_404(website_id)
    form = WebsiteForm(request.POST or None, instance=website)
    if request.method == "POST" and form.is_valid():
        services.website_update(
            website=website,
            allowed_origins=form.cleaned_data["allowed_origins_text"],
            name=form.cleaned_data["name"],
            **form.appearance(),
        )
        messages.success(request, "Website saved.")
        return redirect("website_detail", website_id=website.pk)
    return render(
        request,
        "inbox/website_detail.html",
        {
            "website": website,
            "form": form,
            "snippet": selectors.website_snippet(website=website),
            "csp": widget_csp_sources(),
            # Shown once, right after it was made; only its encrypted form is kept.
            "identity_secret": request.session.pop(_SECRET_SESSION_KEY, None),
        },
    )


@require_POST
@managers_only
def website_rotate_key(request: HttpRequest, website_id: int) -> HttpResponse:
    website = services.website_site_key_rotate(website=_website_or_404(website_id))
    messages.warning(
        request, "New site key made. The old one no longer works: update the snippet on your site."
    )
    return redirect("website_detail", website_id=website.pk)


@require_POST
@managers_only
def website_rotate_identity_secret(request: HttpRequest, website_id: int) -> HttpResponse:
    website = _website_or_404(website_id)
    request.session[_SECRET_SESSION_KEY] = services.website_identity_secret_rotate(website=website)
    messages.warning(
        request, "New identity secret made. Update your servers: hashes made with the old one fail."
    )
    return redirect("website_detail", website_id=website.pk)


@require_POST
@managers_only
def website_delete(request: HttpRequest, website_id: int) -> HttpResponse:
    website = _website_or_404(website_id)
    services.website_delete(website=website)
    messages.success(request, f"{website.name} was deleted with its conversations.")
    return redirect("website_list")


# --- Labels and canned responses
