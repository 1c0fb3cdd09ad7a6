"""Answer the newest open conversation of a workspace as its first owner (until the inbox exists,
this is how a developer plays the agent: the visitor sees the reply live)."""

from django.core.management.base import BaseCommand, CommandError

from inbox import services
from inbox.models import Conversation
from tenants.context import workspace_schema
from tenants.models import Membership, Workspace


class Command(BaseCommand):
    help = "Reply as an agent to the newest open conversation of a workspace."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="the workspace's slug, e.g. demo")
        parser.add_argument("body", help="the reply")

    def handle(self, *args, workspace: str, body: str, **options):
        found = Workspace.objects.filter(slug=workspace, claimed_at__isnull=False).first()
        if found is None:
            raise CommandError(f"No workspace {workspace!r}.")
        owner = (
            Membership.objects.filter(workspace=found, role=Membership.Role.OWNER)
            .select_related("user")
            .first()
        )
        with workspace_schema(found.schema_name):
            conversation = (
                Conversation.objects.exclude(status=Conversation.Status.RESOLVED)
                .order_by("-last_message_at")
                .first()
            )
            if conversation is None:
                raise CommandError("No open conversation: write from the widget first.")
            message = services.message_from_agent(conversation=conversation, author=owner.user, body=body)
        self.stdout.write(f"replied in conversation #{conversation.pk} (message #{message.pk})")
