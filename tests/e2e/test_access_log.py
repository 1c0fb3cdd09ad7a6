"""The access log of a live server: one line per request and handshake, and no secret in the whole log.

The server runs as the image does (uvicorn --no-access-log --no-proxy-headers); what it writes
(stdout and stderr) is read back from its log file.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from websockets.sync.client import connect

from tests.e2e.conftest import running_server
from tests.polling import eventually

# Transactional: the server, another process, must see the workspace's committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(django_db_setup):
    with running_server(log_name="access-log", REDIS_KEY_PREFIX=f"parley-test-{uuid.uuid4().hex}") as server:
        yield server


def _access_lines(server, count: int, timeout: float = 15) -> list[str]:
    """The server's access lines once there are at least `count` of them."""

    def lines() -> list[str]:
        return [line for line in server.log_path.read_text().splitlines() if " parley.access " in line]

    eventually(lambda: len(lines()) >= count, timeout=timeout, interval=0.1, what=f"{count} access lines")
    return lines()


def test_tokens_never_reach_the_log_and_every_request_has_its_line(server, tx_workspaces):
    secrets = {
        name: f"{name}{uuid.uuid4().hex}" for name in ("handoff", "invite", "reset", "confirm", "site")
    }
    public, alpha = f"localhost:{server.port}", f"{tx_workspaces.alpha.slug}.localhost:{server.port}"
    requests_made = [
        # (Host, path, what the line must say). allauth's key links are off (codes are mailed), but a
        # link from an older mail still comes, and Django logs the path of its 404 as well.
        (alpha, f"/handoff/?token={secrets['handoff']}", '"GET /handoff/" 400'),
        (alpha, f"/invite/{secrets['invite']}/", '"GET /invite/…/" 410'),
        (
            public,
            f"/accounts/password/reset/key/1a-{secrets['reset']}/",
            '"GET /accounts/password/reset/key/…/" 404',
        ),
        (public, f"/accounts/confirm-email/{secrets['confirm']}/", '"GET /accounts/confirm-email/…/" 404'),
    ]
    before = len(_access_lines(server, 0, timeout=0))
    for host, path, _ in requests_made:
        requests.get(
            f"http://127.0.0.1:{server.port}{path}",
            headers={"Host": host, "X-Forwarded-For": "198.51.100.7"},
            allow_redirects=False,
            timeout=10,
        )
    with connect(
        f"ws://localhost:{server.port}/ws/widget/?site=pk_{secrets['site']}", open_timeout=10
    ) as socket:
        socket.recv(timeout=10)

    lines = _access_lines(server, before + len(requests_made) + 1)[before:]
    expected = [said for _, _, said in requests_made] + ['"WS /ws/widget/" 101']
    assert len(lines) == len(expected), lines
    for line, said in zip(lines, expected, strict=True):
        # client (the peer: the forged header is not believed), request, status, duration
        assert re.search(rf" parley\.access 127\.0\.0\.1 {re.escape(said)} \d+\.\dms$", line), line
    log = server.log_path.read_text()
    for secret in secrets.values():
        assert secret not in log
