"""Settings → Webhooks: endpoints, their secrets, test events and the delivery log (owners and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from config import request_input
from tenants.permissions import managers_only
from webhooks import selectors, services
from webhooks.exceptions import EndpointInvalid
from webhooks.forms import DeliveryFilterForm, EndpointForm
from webhooks.models import Endpoint

_SECRET_SESSION_KEY = "parley_webhook_secret_once"  # noqa: S105 - a session key name, not a secret
CHART_WIDTH, CHART_HEIGHT = 480, 80


def _endpoint_or_404(endpoint_id: int) -> Endpoint:
    endpoint = selectors.endpoint_by_id(endpoint_id)
    if endpoint is None:
        raise Http404("No such endpoint.")
    return endpoint


def _save(form: EndpointForm, endpoint: Endpoint | None = None) -> tuple[Endpoint, str | None] | None:
    """Create or update from a valid form; None with the service's refusal on the form."""
    fields = {
        "url": form.cleaned_data["url"],
        "description": form.cleaned_data["description"],
        "event_types": form.cleaned_data["event_types"],
        "include_private_notes": form.cleaned_data["include_private_notes"],
    }
    try:
        if endpoint is None:
            return services.endpoint_create(**fields)
        return services.endpoint_update(endpoint=endpoint, **fields), None
    except EndpointInvalid as exc:
        form.add_error(None, str(exc))
        return None


@managers_only
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "webhooks/endpoint_list.html", {"endpoints": selectors.endpoints_with_recent_counts()}
    )


@managers_only
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (saved := _save(form)):
        endpoint, secret = saved
        request.session[_SECRET_SESSION_KEY] = secret
        messages.success(request, "Endpoint added. Copy its signing secret now: it is shown only once.")
        return redirect("webhook_endpoint", endpoint_id=endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form})


def _chart(endpoint: Endpoint) -> dict:
    hours = selectors.hourly_outcomes(endpoint)
    top = max((h["ok"] + h["failed"] for h in hours), default=0) or 1
    step = CHART_WIDTH / len(hours)
    bars = []
    for i, h in enumerate(hours):
        ok_height = round(CHART_HEIGHT * h["ok"] / top, 1)
        failed_height = round(CHART_HEIGHT * h["failed"] / top, 1)
        bars.append(
            {
                **h,
                "x": round(i * step + 1, 1),
                "width": round(step - 2, 1),
                "ok_y": round(CHART_HEIGHT - ok_height, 1),
                "ok_height": ok_height,
                "failed_y": round(CHART_HEIGHT - ok_height - failed_height, 1),
                "failed_height": failed_height,
                "label": h["hour"].strftime("%H:00") if i % 6 == 0 else "",
                "label_x": round(i * step + step / 2, 1),
            }
        )
    totals = {"ok": sum(h["ok"] for h in hours), "failed": sum(h["failed"] for h in hours)}
    return {"bars": bars, "top": top, "totals": totals, "width": CHART_WIDTH, "height": CHART_HEIGHT}


def _log_context(request: HttpRequest, endpoint: Endpoint) -> dict:
    filters = DeliveryFilterForm(request.GET or None)
    status = event_type = ""
    if filters.is_valid():
        status, event_type = filters.cleaned_data["status"], filters.cleaned_data["type"]
    before = request_input.object_id(request.GET.get("before"), name="before")
    deliveries = selectors.deliveries_of_endpoint(
        endpoint, status=status, event_type=event_type, before=before
    )
    more = len(deliveries) > selectors.DELIVERY_PAGE_SIZE
    deliveries = deliveries[: selectors.DELIVERY_PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    return {
        "endpoint": endpoint,
        "filters": filters,
        "deliveries": deliveries,
        "next_before": deliveries[-1].pk if more else None,
        "filter_query": query.urlencode(),
    }


@managers_only
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_or_404(endpoint_id)
    if request.htmx and request.method == "GET":  # the log's filters and pages
        return render(request, "webhooks/partials/delivery_log.html", _log_context(request, endpoint))
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "include_private_notes": endpoint.include_private_notes,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _save(form, endpoint):
        messages.success(request, "Endpoint saved.")
        return redirect("webhook_endpoint", endpoint_id=endpoint.pk)
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            **_log_context(request, endpoint),
            "form": form,
            "chart": _chart(endpoint),
            "secret": request.session.pop(_SECRET_SESSION_KEY, None),
        },
    )


@require_POST
@managers_only
def endpoint_rotate_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_or_404(endpoint_id)
    try:
        request.session[_SECRET_SESSION_KEY] = services.endpoint_secret_rotate(endpoint=endpoint)
    except EndpointInvalid as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "New signing secret made. The secret it replaces keeps signing every delivery for 24 hours.",
        )
    return redirect("webhook_endpoint", endpoint_id=endpoint.pk)


@require_POST
@managers_only
def endpoint_toggle(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_or_404(endpoint_id)
    if endpoint.enabled:
        services.endpoint_disable(endpoint=endpoint, reason="Turned off by a person.")
        messages.success(request, "Endpoint disabled. Events that happen now are not sent to it.")
    else:
        queued = services.endpoint_enable(endpoint=endpoint)
        messages.success(
            request,
            f"Endpoint enabled; {queued} undelivered event{'s' if queued != 1 else ''} going out now.",
        )
    return redirect("webhook_endpoint", endpoint_id=endpoint.pk)


@require_POST
@managers_only
def endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_or_404(endpoint_id)
    services.endpoint_test_send(endpoint=endpoint)
    messages.success(request, "Test event queued: it appears in the log below within seconds.")
    return redirect("webhook_endpoint", endpoint_id=endpoint.pk)


@require_POST
@managers_only
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_or_404(endpoint_id)
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, "Endpoint deleted.")
    return redirect("webhook_endpoints")


@managers_only
def delivery_detail(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    """One delivery's attempts (opened in the log) and, on POST, its redelivery."""
    endpoint = _endpoint_or_404(endpoint_id)
    delivery = selectors.delivery_of_endpoint(endpoint, delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    if request.method == "POST":
        delivery = services.delivery_redeliver(delivery=delivery)
        if not request.htmx:
            messages.success(request, "Redelivery queued.")
            return redirect("webhook_endpoint", endpoint_id=endpoint.pk)
    return render(
        request,
        "webhooks/partials/delivery_row.html",
        {
            "endpoint": endpoint,
            "delivery": delivery,
            "attempts": selectors.attempts_of_delivery(delivery),
            "open": True,
            "redelivered": request.method == "POST",
        },
    )
