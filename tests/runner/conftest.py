"""Real Terraform core on workspaces of built-in ``terraform_data`` resources (no provider download),
and a loopback HTTP server that holds a plan or an init for as long as a test needs."""

from __future__ import annotations

import io
import json
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform.engine import Engine

FAST = """
resource "terraform_data" "a" {
  input = "a"
}

resource "terraform_data" "b" {
  input = terraform_data.a.output
}
"""

SLOW = """
resource "terraform_data" "fast" {
  input = "fast"
}

resource "terraform_data" "slow" {
  input = terraform_data.fast.output
  provisioner "local-exec" {
    command = "sleep 30"
  }
}
"""

#: Both engines are always parameters: without a terraform/tofu binary on PATH the binary runs show up
#: as skipped (with the reason) instead of vanishing from the report.
ENGINES = ["embedded", "binary"]


@pytest.fixture
def embedded() -> Engine:
    return engine_mod.select("embedded")


@pytest.fixture(params=ENGINES)
def any_engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "embedded":
        return engine_mod.select("embedded")
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        pytest.skip("no terraform or tofu binary on PATH: the binary engine is not tested here")
    return engine_mod.select(binary)


@pytest.fixture
def make_ws(tmp_path: Path) -> Callable[..., Path]:
    def make(text: str = FAST, name: str = "svc-test", extra: dict[str, str] | None = None) -> Path:
        ws = tmp_path / name
        ws.mkdir()
        (ws / "main.tf").write_text(text)
        for rel, content in (extra or {}).items():
            (ws / rel).parent.mkdir(parents=True, exist_ok=True)
            (ws / rel).write_text(content)
        return ws

    return make


# --------------------------------------------------------------------------------------------------
# A Terraform run that takes as long as a test wants: it waits on a loopback HTTP server that answers
# only when released. Plan reads a `terraform_remote_state` data source from the http backend (the
# built-in `terraform` provider: no download); init fetches a module from an http URL.

#: A state with one output: what the http backend serves to `terraform_remote_state`.
REMOTE_STATE = json.dumps(
    {
        "version": 4,
        "terraform_version": "1.10.0",
        "serial": 1,
        "lineage": "4a1c2b3d-0000-4000-8000-000000000000",
        "outputs": {"bucket": {"value": "models", "type": "string"}},
        "resources": [],
    }
).encode()


def _module_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.tf", 'resource "terraform_data" "m" {\n  input = "m"\n}\n')
    return buffer.getvalue()


class HeldServer(ThreadingHTTPServer):
    """Answers every GET only once ``release`` is set; ``arrived`` is set when the first GET comes in."""

    arrived: threading.Event
    release: threading.Event
    requests: list[str]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Held(BaseHTTPRequestHandler):
    server: HeldServer

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        self.server.arrived.set()
        self.server.release.wait(timeout=120)
        body, kind = (
            (_module_zip(), "application/zip")
            if self.path.endswith(".zip")
            else (REMOTE_STATE, "application/json")
        )
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def held_server() -> Iterator[HeldServer]:
    server = HeldServer(("127.0.0.1", 0), _Held)
    server.arrived, server.release, server.requests = threading.Event(), threading.Event(), []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def held_plan(server: HeldServer) -> str:
    """A configuration whose plan waits for ``server``: it reads a remote state while planning."""
    return (
        'data "terraform_remote_state" "held" {\n  backend = "http"\n  config = {\n'
        f'    address = "{server.url}/state"\n  }}\n}}\n\n'
        'resource "terraform_data" "a" {\n  input = data.terraform_remote_state.held.outputs.bucket\n}\n'
    )


def held_init(server: HeldServer) -> str:
    """A configuration whose init waits for ``server``: it downloads a module from it."""
    return f'module "m" {{\n  source = "{server.url}/m.zip"\n}}\n'
