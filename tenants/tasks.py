"""Background jobs of the tenants app (procrastinate)."""

from procrastinate.contrib.django import app

from tenants import activity, services


@app.periodic(cron="* * * * *")
@app.task(queue="default", queueing_lock="refill_spare_pool", pass_context=False)
def refill_spare_pool(timestamp: int | None = None) -> int:
    """Keep the pool of ready spare schemas full (after each sign-up, and every minute)."""
    return services.spare_pool_refill()


# Every minute: the staff list's figures are at most about a minute behind the activity they count.
@app.periodic(cron="* * * * *")
@app.task(queue="default", queueing_lock="refresh_workspace_stats", pass_context=False)
def refresh_workspace_stats(timestamp: int | None = None) -> int:
    """The staff list's per-workspace figures, computed again where they can have changed."""
    return activity.workspace_stats_refresh()
