"""Settings → Billing, for the workspace's owners: plan, usage, invoices, upgrade and manage."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing import limits, plans, selectors, services
from tenants.permissions import owners_only


def _billing_on(view):
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not plans.billing_enabled():
            raise Http404("Billing is off on this Parley.")
        return view(request, *args, **kwargs)

    return wrapped


def _status_context(request: HttpRequest) -> dict:
    account = selectors.account_of(request.workspace)
    return {
        "account": account,
        "plan": limits.plan_in_force(request.workspace, account=account) or plans.FREE,
        "subscribed": plans.plan_for_key(account.plan),
        "grace_ends": limits.grace_ends(account),
        "summary": selectors.billing_summary(account),  # a plan or trial Parley's staff set, if any
        # Back from Checkout: the plan changes once Stripe's event is handled; the status polls till then.
        "waiting": request.GET.get("checkout") == "done" and not account.stripe_subscription_id,
    }


def _page_context(request: HttpRequest) -> dict:
    context = _status_context(request)
    context.update(
        meters=selectors.meters(request.workspace, context["plan"]),
        invoices=selectors.invoices(context["account"]),
        paid_plans=[plan for plan in plans.PLANS.values() if plan.is_paid],
        free=plans.FREE,
    )
    return context


@_billing_on
@owners_only
def billing_page(request: HttpRequest) -> HttpResponse:
    if request.GET.get("checkout") == "canceled":
        messages.info(request, "Checkout was canceled: nothing was charged.")
    return render(request, "billing/billing.html", _page_context(request))


@_billing_on
@owners_only
def billing_status(request: HttpRequest) -> HttpResponse:
    """The page's body (plan, usage, plans, invoices), polled while a checkout's event is on its way."""
    return render(request, "billing/partials/body.html", _page_context(request))


@require_POST
@_billing_on
@owners_only
def billing_upgrade(request: HttpRequest) -> HttpResponse:
    try:
        url = services.checkout_start(
            workspace=request.workspace,
            plan_key=request.POST.get("plan", ""),
            interval=request.POST.get("interval", ""),
            by=request.user,
        )
    except services.BillingUnavailable as exc:
        messages.error(request, str(exc))
        return redirect("billing")
    return redirect(url)


@require_POST
@_billing_on
@owners_only
def billing_portal(request: HttpRequest) -> HttpResponse:
    return redirect(services.portal_start(workspace=request.workspace, by=request.user))
