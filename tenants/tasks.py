"""Background jobs of the tenants app (procrastinate)."""

from procrastinate.contrib.django import app

from tenants import services


@app.periodic(cron="* * * * *")
@app.task(queue="default", queueing_lock="refill_spare_pool", pass_context=False)
def refill_spare_pool(timestamp: int | None = None) -> int:
    """Keep the pool of ready spare schemas full (after each sign-up, and every minute)."""
    return services.spare_pool_refill()
