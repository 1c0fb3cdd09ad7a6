"""Two owners demoting or removing each other at the same moment still leave the workspace an owner
(tenants.services locks the workspace row before it counts owners)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import User
from tenants import services
from tenants.exceptions import LastOwner, WorkspaceRoleRequired
from tenants.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls) -> list[Exception | None]:
    """Run each call on its own thread (own database connection), released together."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Exception | None] = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as exc:  # the outcome is what is asserted
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def two_owners(workspace) -> tuple[Membership, Membership]:
    first = Membership.objects.get(workspace=workspace, role=Membership.Role.OWNER)
    other = User.objects.create_user(f"co-owner-{workspace.slug}@example.com", "pw-123456789")
    second = Membership.objects.create(user=other, workspace=workspace, role=Membership.Role.OWNER)
    return first, second


@pytest.mark.parametrize("round_", range(5))
def test_two_owners_demoting_each_other_at_once_leave_one_owner(tx_workspaces, round_):
    first, second = two_owners(tx_workspaces.alpha)
    outcomes = at_once(
        lambda: services.membership_role_set(membership=second, role="agent", by=first),
        lambda: services.membership_role_set(membership=first, role="agent", by=second),
    )
    owners = Membership.objects.filter(workspace=tx_workspaces.alpha, role=Membership.Role.OWNER).count()
    assert owners == 1
    # One went through; the other was refused, either as the last owner or as no longer an owner.
    assert sorted(type(o).__name__ for o in outcomes) in (
        ["LastOwner", "NoneType"],
        ["NoneType", "WorkspaceRoleRequired"],
    )


@pytest.mark.parametrize("round_", range(5))
def test_two_owners_removing_each_other_at_once_leave_one_owner(tx_workspaces, round_):
    first, second = two_owners(tx_workspaces.alpha)
    outcomes = at_once(
        lambda: services.membership_remove(membership=second, by=first.user),
        lambda: services.membership_remove(membership=first, by=second.user),
    )
    assert Membership.objects.filter(workspace=tx_workspaces.alpha, role=Membership.Role.OWNER).count() == 1
    # The second to get the lock finds either itself the last owner, or itself no longer a member.
    assert outcomes.count(None) == 1
    assert any(isinstance(o, LastOwner | WorkspaceRoleRequired) for o in outcomes)
