from django.core.management.base import BaseCommand, CommandError

from staff import services
from tenants import app_settings


class Command(BaseCommand):
    help = (
        "Give EMAIL access to the staff console at /staff/, making the account if there is none. A new "
        "account gets no password: its owner sets one through password reset, by a code mailed to EMAIL."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the staff member's address")

    def handle(self, *args, email: str, **options):
        try:
            grant = services.staff_grant(email=email)
        except services.StaffError as exc:
            raise CommandError(str(exc)) from None
        address = grant.user.email
        if not grant.changed:
            self.stdout.write(f"{address} is staff already; nothing changed.")
            return
        if grant.created:
            self.stdout.write(f"Made a staff account for {address}, with no password yet.")
        else:
            self.stdout.write(f"{address} is staff now; their password is unchanged.")
        steps = []
        if grant.created:
            steps.append(
                f"Set a password at {app_settings.public_url('/accounts/password/reset/')} "
                f"(a code is mailed to {address})."
            )
        steps += [
            f"Log in at {app_settings.public_url('/accounts/login/')}.",
            f"Open {app_settings.public_url('/staff/')} and set up an authenticator app when asked: the "
            "console requires two-factor authentication. Keep the recovery codes it shows.",
        ]
        self.stdout.write(f"Next, as {address}:")
        for number, step in enumerate(steps, 1):
            self.stdout.write(f"  {number}. {step}")
