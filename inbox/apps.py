from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"

    def ready(self) -> None:
        from inbox import services
        from tenants import hooks

        # Someone who leaves a workspace, or loses their account, leaves its inbox too (tenants/hooks.py).
        hooks.member_removed.register(services.member_removed)
        hooks.account_taken_back.register(services.account_taken_back)
        # A suspended workspace's inboxes and widgets close at once, not at their next reconnect.
        hooks.workspace_suspended.register(services.workspace_suspended)
