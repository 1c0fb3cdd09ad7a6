"""Background jobs of the billing app (procrastinate)."""

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from billing import services


# Deferred by stripe_event_receive in the transaction that stores the event, so a stored event always
# has its job. A failure (Stripe unreachable) runs again later; a processed event makes the rerun a no-op.
@app.task(
    queue="default",
    name="billing.tasks.stripe_event_process",
    pass_context=False,
    retry=RetryStrategy(max_attempts=12, exponential_wait=2),
)
def stripe_event_process(stripe_id: str) -> str:
    """Act on one stored Stripe event."""
    return services.stripe_event_process(stripe_id=stripe_id)


# One waiting per workspace (queueing_lock): joins and leaves in a burst end in one update to Stripe,
# made with the count as it is when the job runs.
@app.task(
    queue="default",
    name="billing.tasks.seats_sync",
    pass_context=False,
    retry=RetryStrategy(max_attempts=12, exponential_wait=2),
)
def seats_sync(workspace_id: int) -> str:
    """Bring the subscription's quantity to the workspace's number of members."""
    return services.seats_sync(workspace_id=workspace_id)


@app.periodic(cron="*/15 * * * *")
@app.task(queue="default", queueing_lock="billing_usage_check", pass_context=False)
def usage_check_all(timestamp: int | None = None) -> int:
    """This month's conversations against every workspace's plan: 80 % and 100 % emails, the banner."""
    return services.usage_check_all()
