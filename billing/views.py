"""Billing's HTTP edge: the Stripe webhook receiver (public host only)."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import gateway, services
from billing.plans import billing_enabled


# Stripe signs its requests; a CSRF token cannot exist here, the signature takes its place.
@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    # Billing off, or no secret to check against (an empty one would accept anyone's signature).
    if not billing_enabled() or not settings.STRIPE_WEBHOOK_SECRET:
        raise Http404
    try:
        services.stripe_event_receive(
            payload=request.body, sig_header=request.headers.get("Stripe-Signature", "")
        )
    except (gateway.SignatureVerificationError, ValueError):
        return HttpResponse(status=400)
    # New or redelivered, the answer is the same: Stripe stops retrying an event we hold.
    return HttpResponse(status=200)
