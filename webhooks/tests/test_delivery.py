"""Delivering on real parts: the job's code against a receiver on loopback, committed rows, the
retry schedule, 410 and the five-day rule (a compressed clock), slots, and signatures checked by the
`standardwebhooks` package exactly as a tenant's receiver would."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from asgiref.sync import async_to_sync
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from inbox import services as inbox
from tenants.context import close_async_pools, run_in_workspace, workspace_schema
from webhooks import delivery, services
from webhooks.exceptions import SecretsStillSigning
from webhooks.models import Attempt, Delivery, Endpoint, EndpointLease, Event

pytestmark = pytest.mark.django_db(transaction=True)

SCHEDULE = [5.0, 300.0, 1800.0]
T = TypeVar("T")


@pytest.fixture
def schema(tx_workspaces):
    return tx_workspaces.alpha.schema_name


@pytest.fixture
def website(schema, tx_workspaces):
    return run_in_workspace(
        schema, lambda: inbox.website_create(workspace=tx_workspaces.alpha, name="S", allowed_origins="")[0]
    )


def make_endpoint(schema: str, url: str, types=("contact.created",)) -> tuple[Endpoint, str]:
    return run_in_workspace(schema, services.endpoint_create, url=url, event_types=list(types))


def new_contact(schema: str, website) -> None:
    run_in_workspace(schema, inbox.contact_for_visitor, website=website, token=None)


def pending_jobs() -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args, scheduled_at FROM procrastinate_jobs "
            "WHERE task_name = 'webhooks.tasks.deliver' AND status = 'todo' ORDER BY id"
        )
        return [json.loads(args) | {"scheduled_at": at} for args, at in cursor.fetchall()]


def on_a_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Await `make()` on an event loop of its own, as a worker would; that loop's database pool is
    closed after, since the loop ends."""

    async def run():
        try:
            return await make()
        finally:
            await close_async_pools()

    return async_to_sync(run)()


def deliver_now(schema_name: str, delivery_id: int, endpoint_id: int, job_token: int) -> str:
    """A job's arguments as queued (endpoint_id among them) to what the task does with them."""
    return on_a_loop(lambda: delivery.deliver(schema_name, delivery_id, job_token))


def mark_done(jobs: list[dict]) -> None:
    with connection.cursor() as cursor:
        for job in jobs:
            cursor.execute(
                "UPDATE procrastinate_jobs SET status = 'succeeded' WHERE args = %s::jsonb",
                [json.dumps({k: job[k] for k in ("schema_name", "delivery_id", "endpoint_id", "job_token")})],
            )


def run_jobs(schema: str) -> list[str]:
    """What a worker does with each queued delivery job that is due (and marks it done)."""
    done = []
    for job in pending_jobs():
        if job["scheduled_at"] and job["scheduled_at"] > timezone.now():
            continue
        mark_done([job])
        done.append(deliver_now(**{k: v for k, v in job.items() if k != "scheduled_at"}))
    return done


def in_schema(schema, func, *args, **kwargs):
    return run_in_workspace(schema, func, *args, **kwargs)


def test_a_delivery_is_signed_as_standard_webhooks_verifies_it(schema, website, receiver, tx_workspaces):
    hook, secret = make_endpoint(schema, receiver.url)
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    new_contact(schema, website)
    assert run_jobs(schema)[0].startswith("200 in")

    (got,) = receiver.received
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "contact.created" and payload["workspace"] == tx_workspaces.alpha.slug
    assert got.headers["content-type"] == "application/json"
    with workspace_schema(schema):
        event = Event.objects.get()
        assert got.headers["webhook-id"] == event.webhook_id
        (attempt,) = Attempt.objects.all()
        assert attempt.status_code == 200 and attempt.response_body == "ok"
        assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED

    tampered = got.body.replace(b"contact.created", b"contact.updated")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, got.headers)
    old = dict(got.headers, **{"webhook-timestamp": str(int(got.headers["webhook-timestamp"]) - 600)})
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(got.body, old)
    with pytest.raises(WebhookVerificationError):
        Webhook(run_in_workspace(schema, services.endpoint_secret_rotate, endpoint=hook)).verify(
            got.body, got.headers
        )


def signatures(got) -> int:
    return len(got.headers["webhook-signature"].split(" "))


def test_during_a_rotation_both_secrets_sign_and_after_it_only_the_new(schema, website, receiver):
    hook, old_secret = make_endpoint(schema, receiver.url)
    new_secret = in_schema(schema, services.endpoint_secret_rotate, endpoint=hook)
    new_contact(schema, website)
    run_jobs(schema)
    got = receiver.received[0]
    assert signatures(got) == 2
    assert Webhook(old_secret).verify(got.body, got.headers)["type"] == "contact.created"
    assert Webhook(new_secret).verify(got.body, got.headers)["type"] == "contact.created"

    expire_retired_secrets(schema, count=1)  # the 24 hours are over
    new_contact(schema, website)
    run_jobs(schema)
    later = receiver.received[1]
    assert signatures(later) == 1
    Webhook(new_secret).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(later.body, later.headers)


def expire_retired_secrets(schema: str, count: int) -> None:
    """The oldest `count` retired secrets reach the end of their overlap."""
    with workspace_schema(schema):
        endpoint = Endpoint.objects.get()
        for retired in endpoint.retired_secrets[:count]:
            retired["expires_at"] = (timezone.now() - timedelta(seconds=1)).isoformat()
        endpoint.save()


def test_a_second_rotation_keeps_the_first_secret_signing_until_its_own_overlap_ends(
    schema, website, receiver
):
    hook, first = make_endpoint(schema, receiver.url)
    second = in_schema(schema, services.endpoint_secret_rotate, endpoint=hook)
    third = in_schema(schema, services.endpoint_secret_rotate, endpoint=hook)
    new_contact(schema, website)
    run_jobs(schema)
    got = receiver.received[0]
    assert signatures(got) == 3
    for secret in (first, second, third):
        Webhook(secret).verify(got.body, got.headers)

    expire_retired_secrets(schema, count=1)  # the first rotation's 24 hours end before the second's
    new_contact(schema, website)
    run_jobs(schema)
    later = receiver.received[1]
    assert signatures(later) == 2
    Webhook(second).verify(later.body, later.headers)
    Webhook(third).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(later.body, later.headers)
    with workspace_schema(schema):
        assert len(Endpoint.objects.get().retired_secrets) == 2, "pruned at the next rotation, not before"
    in_schema(schema, services.endpoint_secret_rotate, endpoint=hook)
    with workspace_schema(schema):
        assert len(Endpoint.objects.get().retired_secrets) == 2, "the expired one is gone"


def test_rotations_stop_at_five_secrets_still_signing_and_say_until_when(schema, website, receiver):
    hook, _ = make_endpoint(schema, receiver.url)
    for _ in range(services.RETIRED_SECRETS_MAX):
        in_schema(schema, services.endpoint_secret_rotate, endpoint=hook)
    with pytest.raises(
        SecretsStillSigning, match=r"5 earlier secrets still sign every delivery\. Rotate again after"
    ):
        in_schema(schema, services.endpoint_secret_rotate, endpoint=hook)
    expire_retired_secrets(schema, count=1)
    in_schema(schema, services.endpoint_secret_rotate, endpoint=hook)


@override_settings(PARLEY_WEBHOOK_RETRY_SCHEDULE=SCHEDULE)
def test_an_answer_of_junk_bytes_is_recorded_safely_and_frees_the_slot(schema, website, receiver):
    receiver.answers = [500]
    receiver.reply_body = b"\x00\x00boom \xc3\x28 \xff end"  # NULs, a broken sequence, a stray byte
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    assert run_jobs(schema)[0].startswith("500 in")

    with workspace_schema(schema):
        (attempt,) = Attempt.objects.all()
        assert (attempt.status_code, attempt.response_body) == (500, "\ufffd\ufffdboom \ufffd( \ufffd end")
        d = Delivery.objects.get()
        assert (d.status, d.attempts, d.failures) == ("pending", 1, 1)
        assert not EndpointLease.objects.exists(), "the slot is free at once, not when its lease runs out"
    assert len(pending_jobs()) == 1, "the retry is queued"


@override_settings(PARLEY_WEBHOOK_RETRY_SCHEDULE=SCHEDULE)
def test_failures_are_retried_on_the_schedule_with_the_same_webhook_id(schema, website, receiver):
    receiver.answers = [500, 503]
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)

    run_jobs(schema)
    (job,) = pending_jobs()
    wait = (job["scheduled_at"] - timezone.now()).total_seconds()
    assert 3 < wait <= 5, "the first retry is due 5 s after the failure"
    assert run_jobs(schema) == [], "not before it is due"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
    run_jobs(schema)
    (job,) = pending_jobs()
    assert 290 < (job["scheduled_at"] - timezone.now()).total_seconds() <= 300
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
    run_jobs(schema)

    assert [r.headers["webhook-id"] for r in receiver.received] == [
        receiver.received[0].headers["webhook-id"]
    ] * 3
    with workspace_schema(schema):
        d = Delivery.objects.get()
        assert (d.status, d.attempts, d.failures, d.last_status_code) == ("succeeded", 3, 0, 200)
        assert list(Attempt.objects.values_list("status_code", flat=True)) == [500, 503, 200]
        assert Endpoint.objects.get().failing_since is None
    assert pending_jobs() == []


def counted(workspace) -> tuple[int, int]:
    """The webhook attempts that ended and those that failed, in the workspace's activity counters."""
    from django.db.models import Sum

    from tenants.models import WorkspaceActivity

    found = WorkspaceActivity.objects.filter(workspace=workspace).aggregate(
        deliveries=Sum("deliveries"), failures=Sum("delivery_failures")
    )
    return found["deliveries"] or 0, found["failures"] or 0


@override_settings(PARLEY_WEBHOOK_RETRY_SCHEDULE=[0.0, 0.0, 0.0])
def test_every_attempt_that_ends_is_counted_in_the_workspace_activity_and_the_failed_ones_apart(
    schema, website, receiver, other_receiver, tx_workspaces
):
    receiver.answers = [500, 404]
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    run_jobs(schema)
    assert counted(tx_workspaces.alpha) == (1, 1)
    run_jobs(schema)
    run_jobs(schema)
    assert len(receiver.received) == 3  # 500, 404, then 200
    assert counted(tx_workspaces.alpha) == (3, 2)
    # A receiver that says it is gone disables its endpoint: a failure too.
    other_receiver.answers = [410]
    make_endpoint(schema, other_receiver.url)
    new_contact(schema, website)
    run_jobs(schema)
    assert counted(tx_workspaces.alpha) == (5, 3)  # the first endpoint's 200 and the second's 410
    assert counted(tx_workspaces.beta) == (0, 0)


@override_settings(PARLEY_WEBHOOK_RETRY_SCHEDULE=[0.0, 0.0])
def test_a_delivery_that_fails_every_attempt_ends_failed(schema, website, receiver):
    receiver.answers = [500, 500, 500]
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    for _ in range(4):
        run_jobs(schema)
    assert len(receiver.received) == 3 and pending_jobs() == []
    with workspace_schema(schema):
        d = Delivery.objects.get()
        assert (d.status, d.attempts) == ("failed", 3)
        assert Endpoint.objects.get().enabled, "a few failures do not disable an endpoint"
    # Redeliver: once more, now, with the same webhook-id.
    in_schema(schema, services.delivery_redeliver, delivery=d)
    run_jobs(schema)
    assert receiver.received[-1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
    with workspace_schema(schema):
        assert Delivery.objects.get().status == "succeeded"


def test_410_disables_the_endpoint_and_keeps_its_events_until_it_is_enabled(schema, website, receiver):
    receiver.answers = [410]
    hook, _ = make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    run_jobs(schema)
    with workspace_schema(schema):
        hook.refresh_from_db()
        assert not hook.enabled and "410" in hook.disabled_reason
        assert Delivery.objects.get().status == "pending"
    assert pending_jobs() == [], "nothing is retried while disabled"
    new_contact(schema, website)  # happens while disabled: not for this endpoint
    with workspace_schema(schema):
        assert Delivery.objects.count() == 1

    assert in_schema(schema, services.endpoint_enable, endpoint=hook) == 1
    run_jobs(schema)
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body
    with workspace_schema(schema):
        assert Delivery.objects.get().status == "succeeded"


@override_settings(PARLEY_WEBHOOK_DISABLE_AFTER=3600.0, PARLEY_WEBHOOK_RETRY_SCHEDULE=[0.0] * 5)
def test_an_endpoint_failing_for_the_whole_window_is_disabled_and_its_owner_emailed(
    schema, website, receiver, tx_workspaces
):
    receiver.answers = [500] * 10
    hook, _ = make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    run_jobs(schema)
    with workspace_schema(schema):
        hook.refresh_from_db()
        assert hook.enabled and hook.failing_since is not None
        # Failing since just over the window (the compressed clock: an hour here, five days by default).
        Endpoint.objects.update(failing_since=timezone.now() - timedelta(seconds=3601))
    run_jobs(schema)
    with workspace_schema(schema):
        hook.refresh_from_db()
        assert not hook.enabled and "failed since" in hook.disabled_reason
        assert Delivery.objects.get().status == "pending"
    (email,) = mail.outbox
    assert email.to == [tx_workspaces.owner_a.email] and receiver.url in email.body


def test_a_success_clears_the_failing_clock(schema, website, receiver):
    receiver.answers = [500]
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    new_contact(schema, website)
    run_jobs(schema)
    with workspace_schema(schema):
        assert Endpoint.objects.get().failing_since is None


def test_an_older_job_for_a_requeued_delivery_does_nothing(schema, website, receiver):
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    (old_job,) = pending_jobs()
    with workspace_schema(schema):
        services.deliveries_enqueue([Delivery.objects.get().pk])
    assert deliver_now(schema, old_job["delivery_id"], old_job["endpoint_id"], old_job["job_token"]) == (
        "nothing to do"
    )
    assert receiver.received == []


def parked(schema: str) -> list[int]:
    with workspace_schema(schema):
        return list(
            Delivery.objects.filter(parked_at__isnull=False).order_by("id").values_list("id", flat=True)
        )


@override_settings(PARLEY_WEBHOOK_CONCURRENCY=1, PARLEY_WEBHOOK_TIMEOUT=10)
def test_a_busy_endpoint_parks_the_delivery_until_its_slot_is_given_back(schema, website, receiver):
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    new_contact(schema, website)
    first, second = pending_jobs()

    def claim(job) -> delivery.Claimed | str:
        return on_a_loop(
            lambda: delivery.delivery_claim(schema, job["delivery_id"], job["job_token"], uuid.uuid4())
        )

    claimed = claim(first)
    assert isinstance(claimed, delivery.Claimed)
    assert claim(second) == "parked"
    assert parked(schema) == [second["delivery_id"]]
    # Its only job is the backstop, due when the lease now held has run out (timeout + 15 s).
    (backstop,) = [job for job in pending_jobs() if job["delivery_id"] == second["delivery_id"]][1:]
    assert backstop["job_token"] == second["job_token"] + 1
    assert 24 < (backstop["scheduled_at"] - timezone.now()).total_seconds() <= 25

    on_a_loop(lambda: delivery.lease_release(schema, claimed))
    handed = [job for job in pending_jobs() if job["delivery_id"] == second["delivery_id"]][-1]
    assert handed["job_token"] == second["job_token"] + 2
    assert handed["scheduled_at"] is None, "queued to run now"
    assert parked(schema) == []
    assert claim(backstop) == "nothing", "the backstop is spent once the delivery is queued again"
    assert isinstance(claim(handed), delivery.Claimed)


@override_settings(PARLEY_WEBHOOK_CONCURRENCY=1)
def test_a_slot_whose_lease_ran_out_is_not_handed_on_by_its_late_holder(schema, website, receiver):
    """A worker that outlived its lease gives back nothing: the slot is someone else's by now."""
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    new_contact(schema, website)
    first, second = pending_jobs()
    claimed = on_a_loop(
        lambda: delivery.delivery_claim(schema, first["delivery_id"], first["job_token"], uuid.uuid4())
    )
    with workspace_schema(schema):
        EndpointLease.objects.update(holder=uuid.uuid4())  # taken over after running out
        on_a_loop(
            lambda: delivery.delivery_claim(schema, second["delivery_id"], second["job_token"], uuid.uuid4())
        )
    jobs_before = pending_jobs()
    on_a_loop(lambda: delivery.lease_release(schema, claimed))
    assert pending_jobs() == jobs_before
    with workspace_schema(schema):
        assert EndpointLease.objects.count() == 1


@override_settings(PARLEY_WEBHOOK_CONCURRENCY=2)
def test_a_slow_receiver_holds_its_slots_and_the_rest_are_parked_at_once(schema, website, receiver):
    """Five deliveries at once to a receiver that hangs: two are in flight, three are parked without
    waiting for them, and each slot given back sends the next, until all five arrive."""
    receiver.answers = ["hang"] * 2
    receiver.hang_for = 1.0
    make_endpoint(schema, receiver.url)
    for _ in range(5):
        new_contact(schema, website)
    jobs = pending_jobs()
    finished: list[str] = []

    async def job(args: dict) -> None:
        finished.append(await delivery.deliver(args["schema_name"], args["delivery_id"], args["job_token"]))

    on_a_loop(lambda: asyncio.gather(*(job(j) for j in jobs)))
    assert [o.split(" ")[0] for o in finished] == ["endpoint"] * 3 + ["200"] * 2, finished
    assert len(receiver.received) == 2
    assert len(parked(schema)) == 1, "each of the two slots given back queued one parked delivery"
    mark_done(jobs)
    assert [o.split(" ")[0] for o in run_jobs(schema)] == ["200", "200"]
    assert len(receiver.received) == 4
    run_jobs(schema)
    with workspace_schema(schema):
        assert list(Delivery.objects.values_list("status", flat=True)) == ["succeeded"] * 5
    assert parked(schema) == []


def test_a_receiver_that_redirects_is_a_failure_and_not_followed(schema, website, receiver):
    receiver.answers = [302]
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    run_jobs(schema)
    assert [r.path for r in receiver.received] == ["/hooks"]
    with workspace_schema(schema):
        assert Delivery.objects.get().last_status_code == 302
        assert Delivery.objects.get().status == "pending"
