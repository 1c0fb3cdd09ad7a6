"""Real procrastinate workers for tests, each in its own process group (so SIGKILL reaches it whole)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from config.embedded_services import PROJECT_DIR
from conftest import subprocess_env


def start_worker(**env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker"],
        cwd=PROJECT_DIR,
        env=subprocess_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        worker.wait(timeout=30)
