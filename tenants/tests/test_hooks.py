"""tenants.hooks: every function the apps above register, in the order they run, and how a hook calls them."""

from __future__ import annotations

import pytest

from tenants import hooks


def _names(hook: hooks.Hook) -> list[str]:
    return [f"{function.__module__}.{function.__qualname__}" for function in hook.functions]


def test_what_runs_at_each_moment():
    # The whole wiring, read in one place: a registration added or dropped shows here.
    assert {hook.name: _names(hook) for hook in _all_hooks()} == {
        "before_invitation": ["billing.limits.invitation_limit_check"],
        "before_joining": ["billing.limits.joining_limit_check"],
        "members_changed": ["billing.services.seats_changed"],
        "member_removed": ["inbox.services.conversations.member_removed", "api.services.member_removed"],
        "account_taken_back": [
            "inbox.services.conversations.account_taken_back",
            "api.services.account_taken_back",
        ],
        "workspace_suspended": ["inbox.services.conversations.workspace_suspended"],
        "workspace_unsuspended": ["webhooks.services.deliveries_resume"],
    }


def _all_hooks() -> list[hooks.Hook]:
    return [value for value in vars(hooks).values() if isinstance(value, hooks.Hook)]


def test_a_hook_calls_each_function_once_in_order_with_its_arguments():
    hook = hooks.Hook("example")
    calls = []

    def first(*, workspace):
        calls.append(("first", workspace))
        return 1

    def second(*, workspace):
        calls.append(("second", workspace))
        return 2

    hook.register(first)
    hook.register(second)
    hook.register(first)  # AppConfig.ready run again: still once
    assert hook(workspace="w") == [1, 2]
    assert calls == [("first", "w"), ("second", "w")]


def test_a_function_that_raises_stops_the_rest():
    hook = hooks.Hook("example")
    called = []

    def refuse(**_):
        raise ValueError("no")

    hook.register(refuse)
    hook.register(lambda **_: called.append(True))
    with pytest.raises(ValueError, match="no"):
        hook()
    assert called == []
