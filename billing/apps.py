from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        from billing import limits, services
        from tenants import hooks

        # A workspace's team is tenants'; the plan's say on it is billing's (tenants/hooks.py).
        hooks.before_invitation.register(limits.invitation_limit_check)
        hooks.before_joining.register(limits.joining_limit_check)
        hooks.members_changed.register(services.seats_changed)
