"""Lint service/Dockerfile for the rules that matter (hadolint is not available; Docker cannot run here)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import REPO

SERVICE = REPO / "service"
BUILD_TOOLS = (
    "build-essential",
    "gcc",
    "g++",
    "make",
    "cmake",
    "python3-dev",
    "python3-pip",
    "git",
    "curl",
    "wget",
)
SECRET = re.compile(r"(SECRET|PASSWORD|TOKEN|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)", re.I)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def stages(ins: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for word, rest in ins:
        if word == "FROM":
            out.append([])
        out[-1].append((word, rest))
    return out


@pytest.fixture(scope="module")
def ins() -> list[tuple[str, str]]:
    return instructions((SERVICE / "Dockerfile").read_text())


def test_bases_are_pinned_cuda12_runtime_images_never_latest(ins: list[tuple[str, str]]) -> None:
    froms = [rest.split()[0] for word, rest in ins if word == "FROM"]
    assert froms
    for image in froms:
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and "$" not in image, image
        assert name == "nvidia/cuda", image
        # exact patch version, CUDA 12.x (11.8 in the seed is end-of-life), the lean runtime flavour
        assert re.fullmatch(r"12\.\d+\.\d+-(cudnn-)?runtime-ubuntu\d+\.\d+", tag), tag
    assert "latest" not in (SERVICE / "Dockerfile").read_text().lower()


def test_multi_stage_and_the_final_stage_has_no_build_tools(ins: list[tuple[str, str]]) -> None:
    st = stages(ins)
    assert len(st) >= 2 and " AS " in st[0][0][1].upper()
    final = st[-1]
    assert " AS " not in final[0][1].upper()  # the last stage is the image
    runs = " ".join(rest for word, rest in final if word == "RUN")
    for tool in BUILD_TOOLS:
        assert not re.search(rf"(^|\s){re.escape(tool)}(\s|$)", runs), f"{tool} installed in the final stage"
    assert "pip install" not in runs  # packages come from the build stage
    copies = [rest for word, rest in final if word == "COPY"]
    assert copies and all(c.startswith("--from=") for c in copies), copies
    for word, rest in ins:
        if word == "RUN" and "apt-get install" in rest:
            assert "--no-install-recommends" in rest and "rm -rf /var/lib/apt/lists/*" in rest, rest


def test_runs_as_a_non_root_user(ins: list[tuple[str, str]]) -> None:
    final = stages(ins)[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and int(user) >= 1000
    words = [word for word, _ in final]
    last_user = len(words) - 1 - words[::-1].index("USER")
    assert "RUN" not in words[last_user:], "RUN after USER would run as the app user at build time"


def test_healthcheck_on_health_and_exec_form_cmd(ins: list[tuple[str, str]]) -> None:
    final = dict(stages(ins)[-1])
    hc = final["HEALTHCHECK"]
    cmd_part = hc[hc.index("CMD") + 3 :].strip()
    assert json.loads(cmd_part)[-1] == "/health"  # liveness; the ALB target group uses /ready
    assert "--start-period" in hc  # model loading must not count as failures
    cmd = json.loads(final["CMD"])  # exec form: PID 1 is python, so SIGTERM reaches the server
    assert cmd == ["python3", "-m", "mlserve"]
    assert final.get("STOPSIGNAL", "SIGTERM") == "SIGTERM"


def test_no_credentials_and_writes_only_under_tmp(ins: list[tuple[str, str]]) -> None:
    text = (SERVICE / "Dockerfile").read_text()
    assert not re.search(r"AKIA[0-9A-Z]{16}", text)
    for word, rest in ins:
        if word in ("ENV", "ARG"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", rest) or [rest.split()[0]]
            assert not any(SECRET.search(n) for n in names), rest
    env = " ".join(rest for word, rest in stages(ins)[-1] if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # no __pycache__ writes on a read-only root filesystem
    for var in ("TMPDIR", "MODEL_DIR", "HOME"):
        value = re.search(rf"{var}=(\S+)", env)
        assert value and value.group(1).startswith("/tmp"), var
    volumes = [json.loads(rest) for word, rest in stages(ins)[-1] if word == "VOLUME"]
    assert ["/tmp"] in volumes


def test_copied_paths_exist_and_requirements_are_pinned(ins: list[tuple[str, str]]) -> None:
    for word, rest in ins:
        if word == "COPY" and not rest.startswith("--from="):
            src = rest.split()[0]
            assert (SERVICE / src).exists(), src
    reqs = [
        line.strip()
        for line in (SERVICE / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "--"))
    ]
    assert reqs and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", r) for r in reqs), reqs
    names = {r.split("==")[0].lower() for r in reqs}
    assert {"fastapi", "uvicorn", "torch", "onnxruntime-gpu", "boto3", "prometheus-client"} <= names


def test_the_linter_catches_what_it_claims() -> None:
    """The checks above fail on a Dockerfile that breaks the rules (a linter that passes anything is no linter)."""
    bad = instructions(
        "FROM nvidia/cuda:latest\nRUN apt-get install -y gcc\nENV AWS_SECRET_ACCESS_KEY=x\nCMD python3 app.py\n"
    )
    with pytest.raises(AssertionError):
        test_bases_are_pinned_cuda12_runtime_images_never_latest(bad)
    with pytest.raises(AssertionError):
        test_multi_stage_and_the_final_stage_has_no_build_tools(bad)
    with pytest.raises(AssertionError):
        test_runs_as_a_non_root_user(bad)
    with pytest.raises((AssertionError, KeyError)):
        test_healthcheck_on_health_and_exec_form_cmd(bad)
    with pytest.raises(AssertionError):
        test_no_credentials_and_writes_only_under_tmp(bad)
