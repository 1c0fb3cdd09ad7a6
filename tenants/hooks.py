"""Where tenants and accounts, the bottom layer, hand over to the apps above them.

Some of their writes have consequences in apps they must not import (the layers contract in
pyproject.toml): removing a member also unassigns their open conversations and closes their inbox
sockets (inbox), revokes the API keys they made (api) and recounts the workspace's paid seats
(billing); an invitation must fit the plan (billing). So the service calls the hook for that moment,
inside its own transaction, and each app above registers a plain function on it in its
AppConfig.ready (billing/apps.py, inbox/apps.py, api/apps.py).

Not a signal: a hook is named for one moment of one service, is called from that service only with
the keyword arguments below, and tenants/tests/test_hooks.py lists every function registered on
each, so a reader can follow a change from the service to every side effect. Functions run in
registration order (that of INSTALLED_APPS); one that raises (a plan's limit) undoes the write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    """One moment in a tenants or accounts service where the apps above act."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.functions: list[Callable[..., Any]] = []

    def register(self, function: Callable[..., Any]) -> None:
        """Call `function` at this moment from now on (once, however often AppConfig.ready runs)."""
        if function not in self.functions:
            self.functions.append(function)

    def __call__(self, **arguments: Any) -> list[Any]:
        """Call every registered function with `arguments`, in order; returns what each returned."""
        return [function(**arguments) for function in self.functions]

    def __repr__(self) -> str:
        return f"<Hook {self.name}>"


# (*, workspace) in tenants.services.invitation_create, before the invitation is made: a pending
# invitation will hold a seat. Raise to refuse it.
before_invitation = Hook("before_invitation")
# (*, workspace) in tenants.services.invitation_accept, before someone new joins. Raise to refuse it.
before_joining = Hook("before_joining")
# (*, workspace) in tenants.services.invitation_accept and membership_remove: a member joined or left.
members_changed = Hook("members_changed")
# (*, workspace, user, by) in tenants.services.membership_remove, once `user`'s membership is deleted.
member_removed = Hook("member_removed")
# (*, user, workspaces) in accounts.services.account_take_back, every way into the account but the
# proven address gone; `workspaces` are those it is a member of. Each function returns a dict of
# what it took away, for the mail to the address's owner ({"api_keys": 2}).
account_taken_back = Hook("account_taken_back")
# (*, workspace) in tenants.services.workspace_suspend and workspace_deletion_schedule, once the
# workspace is marked suspended: its open sockets close after commit (inbox).
workspace_suspended = Hook("workspace_suspended")
# (*, workspace) in tenants.services.workspace_unsuspend and workspace_restore, once the suspension is
# lifted: the webhook deliveries it held back are queued again (webhooks).
workspace_unsuspended = Hook("workspace_unsuspended")
