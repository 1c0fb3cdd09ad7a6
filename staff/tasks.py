"""Background jobs of the staff console (procrastinate)."""

from procrastinate.contrib.django import app

from staff import services


@app.periodic(cron="*/15 * * * *")
@app.task(queue="default", queueing_lock="drop_deleted_workspaces", pass_context=False)
def drop_deleted_workspaces(timestamp: int | None = None) -> int:
    """Drop the schema and rows of each workspace whose deletion's grace period is over."""
    return services.workspaces_drop_due()
