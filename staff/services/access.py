"""Staff access: who may use the console, given from the command line (manage.py create_staff)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import User
from staff.models import AuditEntry
from staff.services.audit import AddressNotProven, StaffError, audit_record


@dataclass(frozen=True)
class StaffGrant:
    user: User
    created: bool  # a new account, with no password yet
    changed: bool  # False: it was staff already, and nothing was written


def staff_grant(*, email: str) -> StaffGrant:
    """Give the account of `email` staff access, making the account (address proven, no password) if
    there is none. An existing account must have proven the address: one made with it by someone else,
    never proven, must not become staff. Writes one audit row when anything changes."""
    email = User.objects.normalize_email(email.strip()).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise StaffError(f"{email!r} is not an email address.") from None
    with transaction.atomic():
        user = account_selectors.account_for_address(email)
        created = user is None
        if user is None:
            user = account_services.account_create_with_proven_address(email=email, password=None)
        else:
            user = User.objects.select_for_update().get(pk=user.pk)
            if not account_selectors.address_is_proven(user=user, email=email):
                raise AddressNotProven(
                    f"The account of {email} has not proven that address, so it may not be its owner's. "
                    "Its owner logs in and enters the code mailed there first; then run this again."
                )
        if user.is_staff:
            return StaffGrant(user=user, created=False, changed=False)
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        audit_record(
            staff=None,  # from the command line: no staff user acted
            action=AuditEntry.Action.STAFF_GRANT,
            reason="manage.py create_staff",
            before={} if created else {"email": user.email, "is_staff": False},
            after={"email": user.email, "is_staff": True},
        )
    return StaffGrant(user=user, created=created, changed=True)
