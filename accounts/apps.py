from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed

        # A signal, against the house rule, because allauth has no adapter method that every proof of
        # an address passes through: a password reset verifies its address without calling
        # adapter.confirm_email. This receiver only hands over to the service.
        email_confirmed.connect(_email_confirmed, dispatch_uid="parley.email_address_proven")


def _email_confirmed(sender, request, email_address, **kwargs) -> None:
    from accounts import services

    services.email_address_proven(request=request, email_address=email_address)
