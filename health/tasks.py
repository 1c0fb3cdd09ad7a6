"""Background jobs of the health app (procrastinate)."""

from procrastinate.contrib.django import app

from health import services


# Every 5 minutes: 288 small rows a day, enough to see a queue that grew for a quarter of an hour.
@app.periodic(cron="*/5 * * * *")
@app.task(queue="default", queueing_lock="sample_platform", pass_context=False)
def sample_platform(timestamp: int | None = None) -> int:
    """Take one health sample (queue depth, oldest job's wait, spare pool, live workers)."""
    return services.health_sample_record().pk


# Hourly: each day is stored within the hour after it settles, and a worker that was down catches up.
@app.periodic(cron="15 * * * *")
@app.task(queue="default", queueing_lock="store_activity_days", pass_context=False)
def store_activity_days(timestamp: int | None = None) -> int:
    """Sum and store the finished days of every workspace's activity not stored yet."""
    return services.activity_days_store()
