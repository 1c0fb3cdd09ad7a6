"""Create the demo workspace, its owner login and its demo website, once; running it again changes nothing
but the demo host page, which is written to .data/demo/ for `make run` to serve on its own origin."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.template.loader import render_to_string

from accounts.models import User
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from tenants import app_settings, selectors, services
from tenants.context import workspace_schema
from tenants.models import Workspace

DEMO_EMAIL = "demo@parley.localhost"
DEMO_PASSWORD = "parley-demo-password"  # noqa: S105 - a published demo login, local only
DEMO_SLUG = "demo"
DEMO_HOST_PORT = 8001


class Command(BaseCommand):
    help = "Seed the demo workspace (slug 'demo'), its owner login and a website for the demo host page."

    def add_arguments(self, parser):
        parser.add_argument(
            "--host-port", type=int, default=DEMO_HOST_PORT, help="port of the demo host page"
        )

    def handle(self, *args, host_port: int, **options):
        if not Workspace.objects.filter(slug=DEMO_SLUG).exists() and not selectors.spare_count():
            # A fresh install has no spare schema yet: make the demo's here, said plainly, rather than
            # have workspace_create warn about an empty pool as it would at a sign-up.
            self.stdout.write("making the first workspace schema (every migration; a few seconds)")
            services.spare_schema_provision()
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, display_name="Dana Demo")
                EmailAddress.objects.create(user=user, email=DEMO_EMAIL, verified=True, primary=True)
            workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
            if workspace is None:
                workspace = services.workspace_create(owner=user, name="Demo Support", slug=DEMO_SLUG)
        with workspace_schema(workspace.schema_name):
            website = inbox_selectors.websites_of_workspace().filter(name="Northwind Coffee").first()
            if website is None:
                website, _ = inbox_services.website_create(
                    workspace=workspace,
                    name="Northwind Coffee",
                    allowed_origins=f"http://localhost:{host_port}\nhttp://127.0.0.1:{host_port}",
                    team_name="Northwind Coffee",
                    greeting="Hi! Questions about beans, brewing or an order? We're here.",
                    accent_color="#7c4a1e",
                )
        page_dir = settings.BASE_DIR / ".data" / "demo"
        page_dir.mkdir(parents=True, exist_ok=True)
        (page_dir / "index.html").write_text(
            render_to_string(
                "demo/host_page.html",
                {
                    "snippet": inbox_selectors.website_snippet(website=website),
                    "reply_command": ".venv/bin/python manage.py agent_reply demo 'Hello!'",
                },
            )
        )
        self.stdout.write(
            f"demo workspace: {app_settings.workspace_url(DEMO_SLUG)}  login {DEMO_EMAIL} / {DEMO_PASSWORD}"
        )
        self.stdout.write(f"demo host page: http://localhost:{host_port}/")
