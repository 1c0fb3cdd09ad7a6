"""Reads for accounts: who an address belongs to."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models import Q

from accounts.models import User


def address_is_proven(*, user: User, email: str) -> bool:
    """Whether `user` has proven they read `email`'s mail."""
    return EmailAddress.objects.filter(user_id=user.pk, email__iexact=email, verified=True).exists()


def account_for_address(email: str) -> User | None:
    """The account an address identifies: the one that proved it, else the one made with it (still to
    be proven). An address merely added to an account, unproven, identifies nobody."""
    proven = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
    if proven is not None:
        return proven.user
    return User.objects.filter(Q(email__iexact=email) | Q(signup_email__iexact=email)).first()
