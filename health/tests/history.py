"""A month of a small, growing platform, for the pages' photographs: sign-ups most days, workspaces at
work in office hours, webhooks with one bad day, health samples every 5 minutes with a stretch the
worker was down, a backlog and a spare pool emptied by a sign-up burst. Public rows only (no schema)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from health.models import HealthSample
from tenants.models import Workspace, WorkspaceActivity

DAYS = 30


def seed_history(*, now: datetime, spare_target: int = 3, seed: int = 16) -> None:
    rng = random.Random(seed)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=DAYS - 1)
    claimed = []
    for day in range(DAYS):
        burst = 14 if day == 21 else 0  # a launch post: a burst of sign-ups empties the spare pool
        for _ in range(rng.randint(1, 4 + day // 6) + burst):
            when = first + timedelta(days=day, seconds=rng.randint(0, 86399))
            if when < now:
                claimed.append(when)
    older = [first - timedelta(days=rng.randint(1, 300)) for _ in range(60)]
    workspaces = Workspace.objects.bulk_create(
        [
            Workspace(schema_name=f"ws_seed_{i}", name=f"Seeded {i}", slug=f"seeded-{i}", claimed_at=when)
            for i, when in enumerate(older + claimed)
        ]
    )
    webhook_users = {w.pk for w in workspaces if rng.random() < 0.35}
    rows = []
    for day in range(DAYS):
        start = first + timedelta(days=day)
        weekend = start.weekday() >= 5
        for workspace in workspaces:
            if workspace.claimed_at > start + timedelta(hours=23) or rng.random() > (0.3 if weekend else 0.7):
                continue
            for hour in sorted(rng.sample(range(7, 20), rng.randint(2, 8))):
                at = start + timedelta(hours=hour)
                if at > now:
                    continue
                messages = rng.randint(1, 24)
                deliveries = rng.randint(0, messages) if workspace.pk in webhook_users else 0
                bad_day = day == 17  # a receiver down for a day
                failures = sum(rng.random() < (0.3 if bad_day else 0.02) for _ in range(deliveries))
                rows.append(
                    WorkspaceActivity(
                        workspace=workspace,
                        hour=at,
                        conversations=rng.randint(0, 3),
                        messages=messages,
                        deliveries=deliveries,
                        delivery_failures=failures,
                        last_at=at + timedelta(minutes=rng.randint(0, 59)),
                    )
                )
    WorkspaceActivity.objects.bulk_create(rows, batch_size=2000)

    samples = []
    taken = first
    while taken < now:
        day = (taken - first).days
        if not (9 <= day <= 10 and (day == 9 or taken.hour < 14)):  # the worker was down: no samples
            backlog = day == 17 and 9 <= taken.hour <= 12
            burst = day == 21 and 10 <= taken.hour <= 11
            samples.append(
                HealthSample(
                    taken_at=taken,
                    queue_depth=rng.randint(40, 180) if backlog else rng.choice((0, 0, 0, 0, 1, 2, 3)),
                    oldest_job_age_seconds=rng.randint(60, 420)
                    if backlog
                    else rng.choice((0, 0, 0, 1, 2, 4)),
                    spare_pool_size=rng.choice((0, 1)) if burst else spare_target,
                    workers_alive=2,
                )
            )
        taken += timedelta(minutes=5)
    HealthSample.objects.bulk_create(samples, batch_size=2000)
