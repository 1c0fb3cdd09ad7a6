"""Background jobs of the inbox (procrastinate)."""

from procrastinate.contrib.django import app

from inbox import services
from tenants.context import run_in_workspace
from tenants.models import Workspace


@app.periodic(cron="* * * * *")
@app.task(queue="default", queueing_lock="wake_snoozed_conversations", pass_context=False)
def wake_snoozed_conversations(timestamp: int | None = None) -> int:
    """Reopen, in every workspace, the snoozed conversations whose time has come."""
    woken = 0
    for schema_name in Workspace.objects.filter(claimed_at__isnull=False).values_list(
        "schema_name", flat=True
    ):
        woken += run_in_workspace(schema_name, services.conversations_wake_snoozed)
    return woken
