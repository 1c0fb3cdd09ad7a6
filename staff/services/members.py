"""A workspace's members, helped by staff: the mail that tells one how to prove their address, again."""

from __future__ import annotations

from django.db import transaction

from accounts import services as account_services
from accounts.models import User
from staff.models import AuditEntry
from staff.services.audit import StaffError, audit_record
from tenants import selectors as tenant_selectors
from tenants.models import Workspace


class MemberNotFound(StaffError):
    """The account is not a member of that workspace (any more)."""


def verification_resend(
    *, staff: User, workspace: Workspace, member: User, ip_address: str | None = None
) -> str:
    """Mail `member`, whose address is not proven, how to prove it (accounts.services says why a mail
    and not a code); returns the address. A proven address gets a clear refusal, and no mail."""
    if tenant_selectors.membership_for(user=member, workspace=workspace) is None:
        raise MemberNotFound(f"{member.email} is not a member of {workspace.name}.")
    # The row first, then the mail, in one transaction: a mail server that refuses the mail undoes
    # the row, and a row that cannot be written sends nothing.
    try:
        with transaction.atomic():
            audit_record(
                staff=staff, action=AuditEntry.Action.VERIFICATION_RESEND, workspace=workspace,
                before={"member": member.email, "verified": False},
                after={"member": member.email, "mailed": True}, ip_address=ip_address,
            )  # fmt: skip
            return account_services.address_proof_remind(user=member, workspace_name=workspace.name)
    except account_services.AddressAlreadyProven as exc:  # its row went with the transaction
        raise StaffError(str(exc)) from None
