from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from api import services
        from tenants import hooks

        # API keys act as the member who made them, so they stop when that member goes (tenants/hooks.py).
        hooks.member_removed.register(services.member_removed)
        hooks.account_taken_back.register(services.account_taken_back)
