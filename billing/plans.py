"""The plans a workspace can be on, in one place; prices live in Stripe and are named by settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Plan:
    """A plan and its limits; a limit of None means unlimited."""

    key: str
    name: str
    seats: int | None
    websites: int | None
    conversations_per_month: int | None  # conversations started per calendar month
    webhook_endpoints: int | None
    api_keys: int | None
    # Names of the settings holding the Stripe Price ids, read when asked so tests can override them.
    price_monthly_setting: str = ""
    price_yearly_setting: str = ""

    @property
    def is_paid(self) -> bool:
        return bool(self.price_monthly_setting)

    def price_id(self, interval: str) -> str:
        """The Stripe Price id for "month" or "year"; empty for Free or when not configured."""
        name = {"month": self.price_monthly_setting, "year": self.price_yearly_setting}[interval]
        return getattr(settings, name, "") if name else ""


FREE = Plan(
    key="free",
    name="Free",
    seats=2,
    websites=1,
    conversations_per_month=100,
    webhook_endpoints=1,
    api_keys=1,
)
TEAM = Plan(
    key="team",
    name="Team",
    seats=10,
    websites=5,
    conversations_per_month=5_000,
    webhook_endpoints=5,
    api_keys=5,
    price_monthly_setting="STRIPE_PRICE_TEAM_MONTHLY",
    price_yearly_setting="STRIPE_PRICE_TEAM_YEARLY",
)
BUSINESS = Plan(
    key="business",
    name="Business",
    seats=None,
    websites=None,
    conversations_per_month=None,
    webhook_endpoints=20,
    api_keys=None,
    price_monthly_setting="STRIPE_PRICE_BUSINESS_MONTHLY",
    price_yearly_setting="STRIPE_PRICE_BUSINESS_YEARLY",
)

PLANS: dict[str, Plan] = {plan.key: plan for plan in (FREE, TEAM, BUSINESS)}


def plan_for_key(key: str) -> Plan:
    """The plan stored under `key`; Free for anything unknown, so a stale key never lifts limits."""
    return PLANS.get(key, FREE)


def plan_for_price(price_id: str) -> tuple[Plan, str] | None:
    """The (plan, interval) a Stripe Price id belongs to, or None if it is none of ours."""
    if not price_id:
        return None
    for plan in PLANS.values():
        for interval in ("month", "year"):
            if plan.price_id(interval) == price_id:
                return plan, interval
    return None


def billing_enabled() -> bool:
    """Billing is on only when a Stripe secret key is configured."""
    return bool(settings.STRIPE_SECRET_KEY)
