"""Background jobs of the exports app (procrastinate, queue "exports")."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection
from procrastinate.contrib.django import app

from exports import services


@functools.cache
def _builders() -> ThreadPoolExecutor:
    # Exports take minutes for a big workspace. Run as a plain sync task, each would hold one of the
    # few threads of the event loop's default executor, which every other sync job (billing, the spare
    # pool) also runs on: a handful of exports at once would stall them. Here they get threads of their
    # own, PARLEY_EXPORT_THREADS at most per worker; more wait their turn without holding a thread.
    return ThreadPoolExecutor(max_workers=settings.PARLEY_EXPORT_THREADS, thread_name_prefix="export")


def _build(export_id: int) -> str:
    try:
        return services.export_build(export_id=export_id)
    finally:
        connection.close()  # this thread's connection goes back to the pool


# Deferred by services.export_request with lock and queueing lock "export-<workspace id>": one waiting
# and one building per workspace. Not retried: a failed export is marked failed, and asked for again.
# A worker that dies mid-build has the job run again (webhooks.tasks.retry_stalled_jobs): it starts over.
@app.task(queue="exports", name=services.EXPORT_BUILD_TASK, pass_context=False)
async def export_build(export_id: int, workspace_id: int) -> str:
    # workspace_id is in the job's arguments for whoever reads the queue; the export row names it.
    return await asyncio.get_running_loop().run_in_executor(_builders(), _build, export_id)


@app.periodic(cron="23 * * * *")
@app.task(queue="default", queueing_lock="exports_expired_delete", pass_context=False)
def exports_expired_delete(timestamp: int | None = None) -> int:
    """Every hour: delete the files of exports past their expiry."""
    return services.exports_expired_delete()
