from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from tenants import hooks
        from webhooks import services

        # The deliveries a suspension held back go out once it is lifted (tenants/hooks.py).
        hooks.workspace_unsuspended.register(services.deliveries_resume)
