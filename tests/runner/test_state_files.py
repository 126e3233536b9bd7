"""A read-only or corrupt workspace state: one line, never a traceback.

Regression (issue #12): a read-only workspace (``PermissionError`` creating ``.mlfargate``), a read-only
``.mlfargate`` after a successful apply (traceback, exit 1), a ``plan.meta.json`` that is ``[]``, a
string, or has a missing or invalid ``created`` (four tracebacks), and ``"destroy": "false"`` read as a
destroy plan. Every problem with the saved plan reads "saved plan is unusable: <why>; run
`mlfargate plan DIR` again". Permissions are real: the commands run with ordinary file permissions
(see ``tests.conftest.as_owner``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mlfargate.terraform import engine as engine_mod
from mlfargate.terraform import operations as tfops
from mlfargate.terraform import state as tfstate
from tests.conftest import as_owner

REPO = Path(__file__).resolve().parents[2]


def mlfargate(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        as_owner([sys.executable, "-m", "mlfargate.cli", *args, "--terraform", "embedded"]),
        cwd=ws.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), result.stderr
    return lines[-1]


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make directories read-only (r-x) for the test; writable again afterwards, for the cleanup."""
    made: list[Path] = []

    def make(path: Path) -> None:
        path.chmod(0o555)
        made.append(path)

    yield make
    for path in made:
        path.chmod(0o755)


@pytest.mark.slow
def test_plan_in_a_read_only_workspace_is_one_line(
    make_ws: Callable[..., Path], read_only: Callable[[Path], None]
) -> None:
    ws = make_ws()
    tfops.init(engine_mod.select("embedded"), ws)  # initialised while writable; then made read-only
    read_only(ws)
    result = mlfargate(ws, "plan", ws.name)
    assert result.returncode == 2
    assert one_error_line(result) == (
        f"error: {ws}: cannot create .mlfargate/ for the saved plan (Permission denied); "
        "make the workspace writable and run `mlfargate plan` again"
    )
    assert not (ws / tfstate.STATE_DIR).exists()


@pytest.mark.slow
def test_plan_over_a_read_only_saved_plan_is_one_line(
    make_ws: Callable[..., Path], read_only: Callable[[Path], None]
) -> None:
    ws = make_ws()
    embedded = engine_mod.select("embedded")
    tfops.init(embedded, ws)
    tfops.plan(embedded, ws)
    read_only(ws / tfstate.STATE_DIR)
    result = mlfargate(ws, "plan", ws.name)
    assert result.returncode == 2
    assert one_error_line(result) == (
        f"error: {ws / tfstate.STATE_DIR}: cannot remove the saved plan's tfplan (Permission denied); "
        "make .mlfargate/ writable, or remove it, and run `mlfargate plan` again"
    )


@pytest.mark.slow
def test_read_only_saved_plan_after_a_successful_apply_says_it_applied(
    make_ws: Callable[..., Path], read_only: Callable[[Path], None]
) -> None:
    ws = make_ws()
    embedded = engine_mod.select("embedded")
    tfops.init(embedded, ws)
    tfops.plan(embedded, ws)
    read_only(ws / tfstate.STATE_DIR)
    result = mlfargate(ws, "apply", ws.name, "--yes")
    assert tfops.state_resources(embedded, ws) == ["terraform_data.a", "terraform_data.b"]  # it did apply
    assert result.returncode == 2
    assert one_error_line(result) == (
        f"error: applied, but {ws / tfstate.STATE_DIR}: cannot remove the saved plan's tfplan "
        "(Permission denied); make .mlfargate/ writable, or remove it, and run `mlfargate plan` again"
    )


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real saved plan; each test corrupts a copy of it."""
    from tests.runner.conftest import FAST

    ws = tmp_path_factory.mktemp("planned") / "svc-state"
    ws.mkdir()
    (ws / "main.tf").write_text(FAST)
    embedded = engine_mod.select("embedded")
    tfops.init(embedded, ws)
    tfops.plan(embedded, ws)
    return ws


def _meta(ws: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((ws / tfstate.STATE_DIR / tfstate.PLAN_META).read_text())
    return data


CORRUPT_META: dict[str, tuple[Callable[[dict[str, object]], object], str]] = {
    "list": (lambda m: [], "plan.meta.json holds a list, not an object"),
    "string": (lambda m: "a plan", "plan.meta.json holds a string, not an object"),
    "no-created": (
        lambda m: {k: v for k, v in m.items() if k != "created"},
        "plan.meta.json has no 'created'",
    ),
    "created-text": (
        lambda m: {**m, "created": "yesterday"},
        "plan.meta.json 'created' is \"yesterday\", not a time in seconds",
    ),
    "created-bool": (
        lambda m: {**m, "created": True},
        "plan.meta.json 'created' is true, not a time in seconds",
    ),
    "destroy-text": (
        lambda m: {**m, "destroy": "false"},
        "plan.meta.json 'destroy' is \"false\", not true or false",
    ),
    "no-destroy": (
        lambda m: {k: v for k, v in m.items() if k != "destroy"},
        "plan.meta.json has no 'destroy'",
    ),
    "fingerprint-number": (
        lambda m: {**m, "fingerprint": 7},
        "plan.meta.json 'fingerprint' is 7, not a SHA-256 hex digest",
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_META))
def test_corrupt_plan_meta_is_unusable(case: str, planned: Path, tmp_path: Path) -> None:
    ws = tmp_path / planned.name
    shutil.copytree(planned, ws, symlinks=True)
    change, why = CORRUPT_META[case]
    meta = ws / tfstate.STATE_DIR / tfstate.PLAN_META
    meta.write_text(json.dumps(change(_meta(ws))))
    with pytest.raises(tfstate.PlanRequiredError) as refused:
        tfstate.load_saved_plan(ws)
    assert str(refused.value) == f"saved plan is unusable: {why}; run `mlfargate plan {ws}` again"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{", "plan.meta.json is not JSON (Expecting property name enclosed in double quotes at line 1)"),
        (b"\xff\xfe{}", "plan.meta.json is not UTF-8 text"),
        (
            b'{"fingerprint": "' + b"0" * 64 + b'", "destroy": false, "created": NaN}',
            "plan.meta.json 'created' is NaN, not a time in seconds",
        ),
    ],
    ids=["truncated", "not-utf8", "nan"],
)
def test_unreadable_plan_meta_is_unusable(content: bytes, why: str, planned: Path, tmp_path: Path) -> None:
    ws = tmp_path / planned.name
    shutil.copytree(planned, ws, symlinks=True)
    (ws / tfstate.STATE_DIR / tfstate.PLAN_META).write_bytes(content)
    with pytest.raises(tfstate.PlanRequiredError) as refused:
        tfstate.load_saved_plan(ws)
    assert str(refused.value) == f"saved plan is unusable: {why}; run `mlfargate plan {ws}` again"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"[]", "plan.json holds a list, not Terraform's plan object"),
        (b"not json", "plan.json is not JSON (Expecting value at line 1)"),
        (b'{"resource_changes": [1]}', "plan.json resource_changes are not Terraform's change objects"),
    ],
    ids=["list", "garbage", "changes"],
)
def test_corrupt_plan_json_is_unusable(content: bytes, why: str, planned: Path, tmp_path: Path) -> None:
    ws = tmp_path / planned.name
    shutil.copytree(planned, ws, symlinks=True)
    (ws / tfstate.STATE_DIR / tfstate.PLAN_JSON).write_bytes(content)
    with pytest.raises(tfstate.PlanRequiredError) as refused:
        tfstate.load_saved_plan(ws)
    assert str(refused.value) == f"saved plan is unusable: {why}; run `mlfargate plan {ws}` again"


@pytest.mark.slow
@pytest.mark.parametrize("case", ["list", "string", "no-created", "created-text", "destroy-text"])
def test_apply_with_corrupt_plan_meta_is_one_line(case: str, planned: Path, tmp_path: Path) -> None:
    """The reported ones through the CLI: exit 2, one line, nothing applied."""
    ws = tmp_path / planned.name
    shutil.copytree(planned, ws, symlinks=True)
    change, why = CORRUPT_META[case]
    (ws / tfstate.STATE_DIR / tfstate.PLAN_META).write_text(json.dumps(change(_meta(ws))))
    result = mlfargate(ws, "apply", ws.name, "--yes")
    assert result.returncode == 2
    assert one_error_line(result) == (
        f"error: saved plan is unusable: {why}; run `mlfargate plan {ws}` again"
    )
    assert result.stderr.count("\n") == 1
    assert not (ws / "terraform.tfstate").exists()


def test_destroy_false_is_not_a_destroy_plan(planned: Path, tmp_path: Path) -> None:
    ws = tmp_path / planned.name
    shutil.copytree(planned, ws, symlinks=True)
    assert tfstate.load_saved_plan(ws).destroy is False
    meta = ws / tfstate.STATE_DIR / tfstate.PLAN_META
    meta.write_text(json.dumps({**_meta(ws), "destroy": True}))
    assert tfstate.load_saved_plan(ws).destroy is True
