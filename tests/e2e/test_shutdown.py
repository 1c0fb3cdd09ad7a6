"""Stopping the server: widget long-polls in flight answer at once, and the process exits cleanly.

uvicorn waits for requests in flight before it exits and tells them nothing; a poll may wait 25 s.
"""

from __future__ import annotations

import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from inbox.redis_clients import sync_client
from tests.e2e.conftest import running_server
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_waiting_poll_answers_at_once_when_the_server_stops(site, host_page_server, signum):
    prefix = f"parley-test-{uuid.uuid4().hex}"
    with running_server(log_name=f"shutdown-{signum.name}", REDIS_KEY_PREFIX=prefix) as server:
        origin = {"Origin": host_page_server.origin}
        api = f"{server.public_url}/widget/api"
        welcome = requests.post(f"{api}/hello?site={site.site_key}", json={}, headers=origin, timeout=10)
        assert welcome.status_code == 200, welcome.text
        headers = {**origin, "X-Parley-Visitor": welcome.json()["token"]}
        redis = sync_client()

        with ThreadPoolExecutor(max_workers=1) as pool:
            poll = pool.submit(
                requests.get, f"{api}/poll?site={site.site_key}&after=0&wait=20", headers=headers, timeout=30
            )
            # The poll holds its slot while it waits.
            eventually(
                lambda: any(redis.zcard(key) for key in redis.scan_iter(f"{prefix}:polls:visitor:*")),
                timeout=10,
                what="the poll holding its slot",
            )
            server.process.send_signal(signum)
            stopped_at = time.monotonic()
            answer = poll.result(timeout=5)
            answered_in = time.monotonic() - stopped_at

        assert answer.status_code == 200
        assert answer.json()["messages"] == []
        assert answered_in < 2
        server.process.wait(timeout=5)
        exited_in = time.monotonic() - stopped_at
        assert exited_in < 3
    log = server.log_path.read_text()
    assert "Traceback" not in log and "ERROR" not in log, log
