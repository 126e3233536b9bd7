"""One fact in one place: where a fact must also live outside the core (Terraform validation, module
examples, module docs), a test ties the copy to the core's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import hcl2
import pytest

from mlfargate.generate.model import Wire
from mlfargate.generate.sources import local_source
from mlfargate.generate.wiring import plan
from mlfargate.spec import catalog
from mlfargate.spec.rules import load_valid
from tests.generator.conftest import REPO

MODULE_EXAMPLES = sorted(p for p in (REPO / "modules" / "examples").iterdir() if (p / "main.tf").is_file())
_REF = re.compile(r"module\.([A-Za-z_][\w-]*)\.([A-Za-z_]\w*)")


def example_wiring(example: Path) -> set[Wire]:
    """Module output -> module input in a hand-written example root (modules named by directory)."""
    blocks = [b for f in sorted(example.glob("*.tf")) for b in hcl2.loads(f.read_text()).get("module", [])]
    calls = {name: body for block in blocks for name, body in block.items()}

    def module_dir(body: dict[str, object]) -> str:
        source = body["source"]
        return Path(str(source[0] if isinstance(source, list) else source)).name

    return {
        Wire(module_dir(calls[call]), output, module_dir(body), argument)
        for body in calls.values()
        for argument, value in body.items()
        if argument != "source"
        for call, output in _REF.findall(str(value))
    }


def plan_wiring(spec: Path) -> set[Wire]:
    return plan(load_valid(spec), local_source(spec.parent), spec_text="").wiring()


def test_every_module_example_has_the_spec_it_mirrors() -> None:
    assert [p.name for p in MODULE_EXAMPLES] == ["ec2-gpu", "fargate", "managed-instances-gpu"]
    for example in MODULE_EXAMPLES:
        assert (example / "mlfargate.yaml").is_file(), example


@pytest.mark.parametrize("example", MODULE_EXAMPLES, ids=lambda p: p.name)
def test_module_examples_wire_the_modules_as_the_generator_does(example: Path) -> None:
    expected = plan_wiring(example / "mlfargate.yaml")
    assert expected, "the generator's plan has module wiring"
    assert example_wiring(example) == expected


def test_the_wiring_comparison_sees_a_missing_or_extra_reference(tmp_path: Path) -> None:
    copy = tmp_path / "fargate"
    shutil.copytree(REPO / "modules" / "examples" / "fargate", copy)
    main = copy / "main.tf"
    text = main.read_text()
    assert "vpc_cidr          = module.network.vpc_cidr" in text
    main.write_text(text.replace("vpc_cidr          = module.network.vpc_cidr", 'vpc_cidr = "10.0.0.0/16"'))
    missing = plan_wiring(copy / "mlfargate.yaml") - example_wiring(copy)
    assert missing == {Wire("network", "vpc_cidr", "alb", "vpc_cidr")}


# --------------------------------------------------------------------------------------------------
# Fargate task sizes: the catalog (rules, cost, TUI) and modules/ecs-service's variable validation.

_PAIR = re.compile(r"\(var\.cpu == (\d+) && contains\(\[([\d, ]+)\], var\.memory\)\)")
_RANGE = re.compile(
    r"\(var\.cpu == (\d+) && var\.memory >= (\d+) && var\.memory <= (\d+) && var\.memory % (\d+) == 0\)"
)


def module_fargate_sizes(variables_tf: Path) -> dict[int, tuple[int, ...]]:
    text = variables_tf.read_text()
    sizes: dict[int, tuple[int, ...]] = {}
    for cpu, memories in _PAIR.findall(text):
        sizes[int(cpu)] = tuple(int(m) for m in memories.split(","))
    for cpu, low, high, step in _RANGE.findall(text):
        sizes[int(cpu)] = tuple(range(int(low), int(high) + 1, int(step)))
    return sizes


def test_fargate_sizes_in_the_module_validation_are_the_catalogs() -> None:
    from_catalog = {cpu: tuple(size.memory) for cpu, size in catalog.load().fargate_sizes.items()}
    assert len(from_catalog) == 7
    assert module_fargate_sizes(REPO / "modules" / "ecs-service" / "variables.tf") == from_catalog


def test_the_fargate_comparison_sees_a_drifted_pair(tmp_path: Path) -> None:
    drifted = tmp_path / "variables.tf"
    text = (REPO / "modules" / "ecs-service" / "variables.tf").read_text()
    drifted.write_text(text.replace("var.memory <= 30720", "var.memory <= 29696"))
    from_catalog = {cpu: tuple(size.memory) for cpu, size in catalog.load().fargate_sizes.items()}
    assert module_fargate_sizes(drifted)[4096] != from_catalog[4096]


def test_cdktf_app_resolves_module_sources_like_the_hcl_path(tmp_path: Path) -> None:
    """cdktf_app used to ignore --modules-ref with local sources; it now goes through the same
    generate.sources.module_source as the HCL path, which refuses it (one line, exit 2)."""
    import os
    import subprocess
    import sys

    spec = REPO / "examples" / "cpu-fargate-spot.yaml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdktf_app",
            "--spec",
            str(spec),
            "--workspace",
            str(tmp_path),
            "--modules-ref",
            "v1",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        # jsii warns on every start that this machine's Node.js 20 is past its end of life
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
    )
    assert proc.returncode == 2
    assert proc.stderr == "error: --modules-ref applies to --modules-source git only\n"
    assert not (tmp_path / "cdktf.out").exists()
