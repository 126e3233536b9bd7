"""Fixtures shared by every test area.

``moto_server`` starts the real moto HTTP server on 127.0.0.1 (never real AWS, never a non-loopback
address) and points boto3 at it through environment variables for the duration of the session.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent
_CACHE_DIR: str | None = None

# A test run started in the background by a non-interactive shell (`make test &`, nohup) inherits SIGINT
# *ignored*, passes that on to every process it starts, and Python then installs no KeyboardInterrupt
# handler: the tests that press Ctrl-C at a real CLI would wait for an interrupt that never comes.
# Give the run, and through exec every child, what a terminal gives (a Python handler resets to the
# default on exec; an ignored signal stays ignored).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_configure(config: pytest.Config) -> None:
    """Tests never read or write the operator's caches (prices, provider schema, gate verdicts): one
    temporary cache directory per session, inherited by every subprocess. The gate's verdict cache is
    off unless a test turns it on (tests/policy/test_result_cache.py), so every scan really scans."""
    global _CACHE_DIR
    _CACHE_DIR = tempfile.mkdtemp(prefix="mlfargate-test-cache-")
    os.environ["MLFARGATE_CACHE_DIR"] = _CACHE_DIR
    os.environ["MLFARGATE_GATE_CACHE"] = "0"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE_DIR:
        shutil.rmtree(_CACHE_DIR, ignore_errors=True)


# Hypothesis profiles. "ci" (the default, so `make test` is the same run everywhere): derandomized, the
# same examples every run, never flaky. "dev" (MLFARGATE_HYPOTHESIS_PROFILE=dev): random examples and a
# local database, to hunt for what the fixed examples do not reach. Tests that size their own example
# count keep it under both.
settings.register_profile("dev")
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("MLFARGATE_HYPOTHESIS_PROFILE") or "ci")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """URL of a moto server on loopback; AWS credentials in the environment are fake ones."""
    port = free_port()
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if exe is None:
        pytest.fail("moto_server is not installed; run `make test` to set up .venv")
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start on {url}")
            time.sleep(0.1)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in _FAKE_ENV.items():
                patch.setenv(key, value)
            yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def moto_reset(moto_server: str) -> str:
    """Reset the emulator's state before a test that needs a clean account."""
    req = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=5).close()
    return moto_server


_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


#: root ignores permission bits (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); `setpriv` drops both from a
#: child's bounding set, so a test running as root sees what an ordinary owner of the files would.
_SETPRIV = shutil.which("setpriv")


def as_owner(argv: list[str]) -> list[str]:
    """``argv`` run with ordinary file permissions, also when the tests run as root."""
    if os.geteuid() != 0:
        return argv
    if _SETPRIV is None:
        pytest.skip("running as root without setpriv: permission bits cannot be enforced")
    return [_SETPRIV, "--bounding-set", "-dac_override,-dac_read_search", "--", *argv]
