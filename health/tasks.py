"""Background jobs of the health app (procrastinate)."""

from procrastinate.contrib.django import app

from health import services


# Every 5 minutes: 288 small rows a day, enough to see a queue that grew for a quarter of an hour.
@app.periodic(cron="*/5 * * * *")
@app.task(queue="default", queueing_lock="sample_platform", pass_context=False)
def sample_platform(timestamp: int | None = None) -> int:
    """Take one health sample (queue depth, oldest job's wait, spare pool, live workers)."""
    return services.health_sample_record().pk
