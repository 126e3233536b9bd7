"""Warm scans reuse parsed files only while their bytes are unchanged, and give the same report."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mlfargate.policy import checkov_patches, gate
from mlfargate.policy import report as policy_report

FIXTURES = Path(__file__).parent / "fixtures"


def findings(report: policy_report.PolicyReport) -> set[tuple[str, str, str]]:
    return {(f.check_id, f.resource, f.location) for f in report.failed}


def test_repeated_scans_agree_and_see_edits_in_local_modules(tmp_path: Path) -> None:
    ws = tmp_path / "fail"
    shutil.copytree(FIXTURES / "fail", ws)
    first = gate.scan_directory(ws)
    second = gate.scan_directory(ws)
    assert findings(second) == findings(first)
    assert second.passed == first.passed
    assert ("CKV_AWS_338", "module.logs.aws_cloudwatch_log_group.this", "modules/logs/main.tf:5") in findings(
        first
    )

    # Fix the module's log group (retention >= 1 year): the next warm scan must see the new bytes.
    module = ws / "modules" / "logs" / "main.tf"
    text = module.read_text()
    assert "retention_in_days" in text
    fixed = text.replace("retention_in_days = 7", "retention_in_days = 365")
    assert fixed != text
    module.write_text(fixed)
    third = gate.scan_directory(ws)
    assert (
        "CKV_AWS_338",
        "module.logs.aws_cloudwatch_log_group.this",
        "modules/logs/main.tf:5",
    ) not in findings(third)
    assert findings(third) == findings(first) - {
        ("CKV_AWS_338", "module.logs.aws_cloudwatch_log_group.this", "modules/logs/main.tf:5")
    }


def test_a_file_broken_after_a_good_scan_still_blocks(tmp_path: Path) -> None:
    ws = tmp_path / "pass"
    shutil.copytree(FIXTURES / "pass", ws)
    assert gate.scan_directory(ws).ok
    (ws / "main.tf").write_text((ws / "main.tf").read_text() + '\nresource "aws_s3_bucket" "x" {\n')
    assert not gate.scan_directory(ws).ok


def test_a_missing_local_module_blocks_the_gate(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES / "pass", ws)
    (ws / "extra.tf").write_text('module "m" {\n  source = "./nope"\n}\n')
    report = gate.scan_directory(ws)
    assert not report.ok
    assert report.unchecked == [
        "extra.tf: module 'm' (source ./nope): no .tf files there, so it cannot be checked"
    ]


_LOGGING_PROBE = """
import io, logging, os, sys
from pathlib import Path
from mlfargate.policy import checkov_patches
from mlfargate.policy import gate
from mlfargate.policy import report as policy_report

root = logging.getLogger()
ours = logging.StreamHandler(io.StringIO())
ours.setLevel(logging.INFO)
ours.setFormatter(logging.Formatter("app: %(message)s"))
root.addHandler(ours)
root.setLevel(logging.INFO)
urllib3 = logging.getLogger("urllib3")

def state():
    return (root.level, list(root.handlers), ours.level, ours.formatter._fmt, urllib3.level, urllib3.propagate)

before = state()
gate.warm_up()  # all of checkov the gate uses: a directory scan alone no longer imports the part that
gate.scan_directory(Path(sys.argv[1]))  # rewires logging (checkov.logging_init, via the runner registry)
import checkov.terraform.runner as checkov_module

print(before == state())  # levels, handlers, our handler's level and format, urllib3: as the app left them
record = dict(name="root", msg="chatter", args=(), exc_info=None, lineno=1)
chatter = logging.LogRecord(level=logging.WARNING, pathname=checkov_module.__file__, **record)
failure = logging.LogRecord(level=logging.ERROR, pathname=checkov_module.__file__, **record)
own = logging.LogRecord(level=logging.WARNING, pathname=__file__, **record)
print(bool(root.filter(chatter)), bool(root.filter(failure)), bool(root.filter(own)))
logging.info("still logging")
print(ours.stream.getvalue().strip())
"""


def test_checkov_does_not_take_over_the_process_logging(tmp_path: Path) -> None:
    """checkov's import sets the root logger to DEBUG, re-levels and re-formats the app's handler, adds
    handlers (one buffering every record in memory) and silences urllib3; the gate puts the app's
    logging back and keeps checkov's sub-ERROR chatter out of it."""
    import subprocess
    import sys

    probe = tmp_path / "probe.py"
    probe.write_text(_LOGGING_PROBE)
    env = {k: v for k, v in os.environ.items() if k != checkov_patches.CHECKOV_LOG_ENV} | {
        "LOG_LEVEL": "INFO"
    }
    result = subprocess.run(
        [sys.executable, str(probe), str(FIXTURES / "pass")], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True", "False True True", "app: still logging"]
    # MLFARGATE_CHECKOV_LOG=1 leaves checkov's logging as checkov set it up (LOG_LEVEL alone does not:
    # it is set in many containers for other reasons, as in the run above).
    debug = subprocess.run(
        [sys.executable, str(probe), str(FIXTURES / "pass")],
        capture_output=True, text=True, env=env | {checkov_patches.CHECKOV_LOG_ENV: "1", "LOG_LEVEL": "DEBUG"},
    )  # fmt: skip
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.splitlines()[:2] == ["False", "True True True"]
