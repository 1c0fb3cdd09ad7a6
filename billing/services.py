"""Billing actions: receiving Stripe events and bringing a workspace's billing state up to Stripe's."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billing import gateway
from billing.models import BillingAccount, StripeEvent
from billing.plans import FREE, plan_for_key, plan_for_price

_OWING = {BillingAccount.Status.PAST_DUE, BillingAccount.Status.UNPAID}

_EVENT_INSERT = """
INSERT INTO billing_stripeevent (stripe_id, type, payload, received_at, customer_unknown, error)
VALUES (%s, %s, %s, now(), false, '')
ON CONFLICT (stripe_id) DO NOTHING
RETURNING id
"""


class BillingUnavailable(Exception):
    """A plan or interval that cannot be bought here (unknown, Free, or its price not configured)."""


def _customer_of(workspace: Any, email: str) -> BillingAccount:
    """The workspace's account with its Stripe customer, created once: under the account's lock, and
    with an idempotency key of the workspace, so two owners clicking at once share one customer."""
    BillingAccount.objects.get_or_create(workspace=workspace)
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(workspace=workspace)
        if not account.stripe_customer_id:
            account.stripe_customer_id = gateway.customer_for_workspace(workspace=workspace, email=email)
            account.save(update_fields=["stripe_customer_id", "updated_at"])
    return account


def checkout_start(*, workspace: Any, plan_key: str, interval: str, by: Any) -> str:
    """A Stripe Checkout page to subscribe `workspace` to a paid plan; returns its URL. The plan
    changes when Stripe's checkout.session.completed (or subscription) event has been handled."""
    from billing.plans import PLANS
    from tenants.models import Membership

    plan = PLANS.get(plan_key)
    if plan is None or not plan.is_paid or interval not in ("month", "year"):
        raise BillingUnavailable("Choose Team or Business, monthly or yearly.")
    price_id = plan.price_id(interval)
    if not price_id:
        raise BillingUnavailable(
            f"{plan.name} is not for sale {'yearly' if interval == 'year' else 'monthly'} here."
        )
    account = _customer_of(workspace, by.email)
    seats = Membership.objects.filter(workspace=workspace).count()
    back = _billing_page(workspace)
    session = gateway.checkout_session_create(
        customer_id=account.stripe_customer_id,
        price_id=price_id,
        quantity=max(1, seats),
        workspace_id=workspace.pk,
        success_url=back + "?checkout=done",
        cancel_url=back + "?checkout=canceled",
    )
    return session.url


def portal_start(*, workspace: Any, by: Any) -> str:
    """A Stripe Billing Portal page (plan, payment method, invoices, cancel); returns its URL."""

    account = _customer_of(workspace, by.email)
    return gateway.portal_session_create(
        customer_id=account.stripe_customer_id,
        return_url=_billing_page(workspace),
    ).url


def seats_changed(workspace: Any) -> None:
    """A member joined or left (tenants.hooks.members_changed): once this transaction commits, queue
    the subscription's quantity update (never inside the request: Stripe may be slow or away).
    Nothing while billing is off."""
    from billing.plans import billing_enabled

    if not billing_enabled():
        return

    def defer() -> None:
        from procrastinate import exceptions as procrastinate_errors

        from billing.tasks import seats_sync

        # One waiting already: it counts the members when it runs. (A savepoint: the refused insert
        # must not spoil a transaction this runs in.)
        with contextlib.suppress(procrastinate_errors.AlreadyEnqueued), transaction.atomic():
            seats_sync.configure(queueing_lock=f"seats-{workspace.pk}").defer(workspace_id=workspace.pk)

    transaction.on_commit(defer)


def seats_sync(*, workspace_id: int) -> str:
    """Set the subscription's quantity to the number of members (Stripe prorates as it defaults to)."""
    from tenants.models import Membership

    account = BillingAccount.objects.filter(workspace_id=workspace_id).first()
    if account is None or not account.stripe_subscription_id or account.status in BillingAccount.ENDED:
        return "no subscription"
    seats = max(1, Membership.objects.filter(workspace_id=workspace_id).count())
    subscription = gateway.subscription_retrieve(account.stripe_subscription_id)
    items = subscription["items"]["data"]
    if items and items[0].get("quantity") == seats:
        return f"already {seats}"
    gateway.subscription_quantity_set(subscription_id=account.stripe_subscription_id, quantity=seats)
    return f"set to {seats}"


def subscription_cancel_now(*, workspace: Any) -> str:
    """Cancel the workspace's subscription at Stripe at once, with no further invoice: the workspace is
    being deleted (staff console). Called before its rows go, outside their transaction; raises if
    Stripe cannot be reached, so that nothing is deleted while it is still billed. The Stripe customer
    is kept, with its invoices, for the accounts."""
    account = BillingAccount.objects.filter(workspace=workspace).first()
    if account is None or not account.stripe_subscription_id or account.status in BillingAccount.ENDED:
        return "no subscription"
    gateway.subscription_cancel(account.stripe_subscription_id)
    return "canceled"


def stripe_event_receive(*, payload: bytes, sig_header: str) -> bool:
    """Verify a webhook request and store its event once; True when it was new (and its job deferred).

    Raises gateway.SignatureVerificationError or ValueError before anything is written.
    """
    event = gateway.webhook_event_construct(payload, sig_header)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One statement: a redelivery racing the first delivery cannot insert twice or fail.
            cursor.execute(_EVENT_INSERT, [event.id, event.type, json.dumps(json.loads(payload))])
            inserted = cursor.fetchone() is not None
        if inserted:
            from billing.tasks import stripe_event_process

            # procrastinate's Django connector defers on this connection: the job commits with the event.
            stripe_event_process.defer(stripe_id=event.id)
    return inserted


def stripe_event_process(*, stripe_id: str) -> str:
    """Act on a stored event once: its handler by type brings the workspace's state up to Stripe's.
    A handler that fails (Stripe away, say) leaves its error on the event and raises, for the job
    to run again; the next success clears it."""
    try:
        return _stripe_event_process(stripe_id)
    except Exception as exc:
        StripeEvent.objects.filter(stripe_id=stripe_id).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        raise


def _stripe_event_process(stripe_id: str) -> str:
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(stripe_id=stripe_id)
        if event.processed_at is not None:
            return "already processed"
        handler = HANDLERS.get(event.type)
        if handler is None:
            outcome = "ignored"
        else:
            obj = event.payload["data"]["object"]
            account = _account_for(obj)
            if account is None:
                event.customer_unknown = True
                outcome = "customer unknown"
            else:
                handler(account, obj, _event_time(event))
                outcome = "processed"
        event.processed_at, event.error = timezone.now(), ""
        event.save(update_fields=["processed_at", "customer_unknown", "error"])
    return outcome


def _event_time(event: StripeEvent) -> dt.datetime:
    return dt.datetime.fromtimestamp(event.payload["created"], tz=dt.UTC)


def _account_for(obj: dict[str, Any]) -> BillingAccount | None:
    customer = obj.get("customer")
    if not customer:
        return None
    return BillingAccount.objects.select_for_update().filter(stripe_customer_id=customer).first()


def _subscription_id(obj: dict[str, Any]) -> str:
    """The subscription an event's object belongs to (subscription, checkout session or invoice)."""
    if obj.get("object") == "subscription":
        return obj["id"]
    if obj.get("subscription"):
        return obj["subscription"]
    # Invoices of recent API versions name it under parent.subscription_details.
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription") or ""


def _subscription_sync(account: BillingAccount, obj: dict[str, Any], at: dt.datetime) -> None:
    """Store the subscription as Stripe holds it now: fetched, so the order of events does not matter."""
    subscription_id = _subscription_id(obj)
    if not subscription_id:
        return
    fetched_at = timezone.now()
    subscription = gateway.subscription_retrieve(subscription_id)
    if account.stripe_state_at and account.stripe_state_at > fetched_at:
        return
    item = subscription["items"]["data"][0] if subscription["items"]["data"] else None
    # Subscriptions made with the older Plans API (and localstripe's) name a plan where a price would be.
    price_id = ((item.get("price") or item.get("plan") or {}).get("id", "")) if item else ""
    match = plan_for_price(price_id)
    status = subscription["status"]
    period_end = subscription.get("current_period_end") or (item or {}).get("current_period_end")
    account.stripe_subscription_id = subscription["id"]
    account.status = status
    account.plan = FREE.key if status in BillingAccount.ENDED or match is None else match[0].key
    account.interval = "" if match is None else match[1]
    account.current_period_end = dt.datetime.fromtimestamp(period_end, tz=dt.UTC) if period_end else None
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    owing_before = account.past_due_since is not None
    if status in _OWING:
        account.past_due_since = account.past_due_since or at
    elif status in BillingAccount.ENDED:
        account.past_due_since = None
    # Active or trialing: a failed payment Stripe has not yet turned into past_due still counts; only
    # a paid invoice (_invoice_paid) ends it.
    account.stripe_state_at = fetched_at
    account.save()
    if account.past_due_since is not None and not owing_before:
        _owners_tell_payment_failed(account)


def _invoice_paid(account: BillingAccount, obj: dict[str, Any], at: dt.datetime) -> None:
    """A paid invoice ends a grace period that began before it (events may come in any order)."""
    _subscription_sync(account, obj, at)
    account.paid_at = max(account.paid_at or at, at)
    if account.past_due_since is not None and account.past_due_since <= at and account.status not in _OWING:
        account.past_due_since = None
    account.save(update_fields=["paid_at", "past_due_since", "updated_at"])


def _payment_failed(account: BillingAccount, obj: dict[str, Any], at: dt.datetime) -> None:
    """A failed payment starts the grace period, even before Stripe marks the subscription past due;
    not when a later payment has already gone through."""
    _subscription_sync(account, obj, at)
    paid_since = account.paid_at is not None and account.paid_at >= at
    if account.past_due_since is None and account.status not in BillingAccount.ENDED and not paid_since:
        account.past_due_since = at
        account.save(update_fields=["past_due_since", "updated_at"])
        _owners_tell_payment_failed(account)


def _owners_tell_payment_failed(account: BillingAccount) -> None:
    """Once a grace period starts: the owners learn it by email (after commit: a rolled-back handler
    tells nobody)."""
    from billing.limits import grace_ends

    workspace, ends = account.workspace, grace_ends(account)
    plan = plan_for_key(account.plan)

    def send() -> None:
        _owners_email(
            workspace,
            "billing_payment_failed",
            {"plan_name": plan.name, "grace_ends": ends, "billing_page": _billing_page(workspace)},
        )

    transaction.on_commit(send)


def _owners_email(workspace: Any, name: str, context: dict[str, Any]) -> None:
    from mail import gateway as mail_gateway
    from tenants.models import Membership

    owners = Membership.objects.filter(workspace=workspace, role=Membership.Role.OWNER).select_related("user")
    for owner in owners:
        mail_gateway.send(name, to=owner.user.email, context={"workspace_name": workspace.name, **context})


def _billing_page(workspace: Any) -> str:
    from tenants import app_settings

    return app_settings.workspace_url(workspace.slug, "/settings/billing/")


def usage_check(*, workspace: Any, now: dt.datetime | None = None) -> int:
    """Compare this month's conversations with the plan: at 80 % and at 100 % the owners are emailed,
    once each a month, and the level is kept for the banner. Returns the level (0, 80 or 100)."""
    from billing import limits, selectors

    plan = limits.plan_in_force(workspace)
    month = selectors.month_start(now).strftime("%Y-%m")
    limit = plan.conversations_per_month if plan else None
    used = selectors.conversations_this_month(workspace) if limit else 0
    level = 0 if not limit else 100 if used >= limit else 80 if used >= 0.8 * limit else 0
    with transaction.atomic():
        account, _ = BillingAccount.objects.select_for_update().get_or_create(workspace=workspace)
        told = account.usage_level if account.usage_month == month else 0
        account.usage_month, account.usage_level = month, level
        account.save(update_fields=["usage_month", "usage_level", "updated_at"])
        if level > told:
            context = {"used": used, "limit": limit, "plan_name": plan.name, "level": level}
            context["billing_page"] = _billing_page(workspace)
            transaction.on_commit(lambda: _owners_email(workspace, "billing_usage", context))
    return level


def usage_check_all() -> int:
    """usage_check for every workspace in use (billing on); returns how many were checked."""
    from billing.plans import billing_enabled
    from tenants.models import Workspace

    if not billing_enabled():
        return 0
    checked = 0
    for workspace in (
        Workspace.objects.exclude(schema_name="public").filter(claimed_at__isnull=False).iterator()
    ):
        usage_check(workspace=workspace)
        checked += 1
    return checked


def subscription_refresh(*, account: BillingAccount) -> None:
    """Store the account's subscription as Stripe holds it now (after a change made from here)."""
    _subscription_sync(
        account, {"object": "subscription", "id": account.stripe_subscription_id}, timezone.now()
    )


HANDLERS: dict[str, Callable[[BillingAccount, dict[str, Any], dt.datetime], None]] = {
    "checkout.session.completed": _subscription_sync,
    "customer.subscription.created": _subscription_sync,
    "customer.subscription.updated": _subscription_sync,
    "customer.subscription.deleted": _subscription_sync,
    "customer.subscription.trial_will_end": _subscription_sync,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _payment_failed,
}
