"""gunicorn on the test database for the tests that need real worker processes; always stopped."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, log_path: Path, *, port: int | None = None, workers: int = 1, worker_class: str = "sync",
             timeout: int = 30, graceful: int = 3, start_within: float = 30, not_started=pytest.fail, **env):
    """gunicorn serving `wsgi:app` on `url`; yields (base URL, process). `not_started` is called with the
    log's end when it does not answer in time (pytest.fail, or pytest.skip where that is fair)."""
    port = port or free_port()
    environ = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "test-secret", "PYTHONUNBUFFERED": "1",
               "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute", **env}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", worker_class,
             "--bind", f"127.0.0.1:{port}", "--timeout", str(timeout), "--graceful-timeout", str(graceful),
             "wsgi:app"],
            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_within
        while True:
            try:
                if requests.get(base + "/auth/login", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                not_started("gunicorn did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield base, proc
    finally:
        # The whole process group: the arbiter and its workers.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
