"""Background jobs of the webhooks app (procrastinate, queue "webhooks")."""

from django.conf import settings
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from webhooks import delivery


# Queued by the SQL function webhook_deliveries_enqueue, which names it "webhooks.tasks.deliver".
# A job that raises (the database went away mid-delivery, say) runs again 4 s, 8 s, 16 s… later, for
# a day and a half; a delivery already recorded makes the rerun a no-op, one that was not is sent again
# with the same webhook-id.
@app.task(
    queue="webhooks",
    name="webhooks.tasks.deliver",
    pass_context=False,
    retry=RetryStrategy(max_attempts=16, exponential_wait=2),
)
async def deliver(schema_name: str, delivery_id: int, endpoint_id: int, job_token: int) -> str:
    # endpoint_id is in the job's arguments for whoever reads the queue; the claim finds it again.
    return await delivery.deliver(schema_name, delivery_id, job_token)


@app.periodic(cron="* * * * * */10")
@app.task(queue="default", queueing_lock="retry_stalled_jobs", pass_context=False)
async def retry_stalled_jobs(timestamp: int | None = None) -> int:
    """Jobs whose worker stopped sending heartbeats (killed, machine lost) run again elsewhere."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.PARLEY_WORKER_STALLED_AFTER
    )
    for job in stalled:
        await app.job_manager.retry_job(job)
    return len(stalled)
