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


# --------------------------------------------------------------------------------------------------
# Credential-looking variable names and model URIs: the spec rules and the modules' validation.

_SERVICE = {
    "name": "llm-prod",
    "capacity": "fargate",
    "cpu": 2048,
    "memory": 4096,
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm:1",
    "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/llm-prod",
    "vpc_id": "vpc-1",
    "subnet_ids": ["subnet-1"],
    "alb_security_group_id": "sg-1",
    "target_group_arn": "arn:tg",
    "execution_role_arn": "arn:aws:iam::123456789012:role/e",
    "task_role_arn": "arn:aws:iam::123456789012:role/t",
    "log_kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/1",
}
_NAMES = [
    "API_KEY", "KEY", "HF_TOKEN", "DB_PASSWORD", "db_passwd", "CLIENT_SECRET", "SECRET_SAUCE", "GCP_CREDENTIALS",
    "AWS_ACCESS_KEY_ID", "TLS_PRIVATE_KEY_PEM", "MAX_BATCH_SIZE", "TOKENIZER_PATH", "MAX_TOKENS", "KEY_PREFIX",
    "MONKEY", "MODEL_FILE",
]  # fmt: skip
_URIS = [
    "s3://acme-models/*", "s3://acme-models/v?/", "s3://acme-models/${aws:username}/", "s3://acme-models//",
    "s3://acme-models//v3/", "s3://acme-models/v3//x", "s3://acme-models/./", "s3://acme-models/v3/../x",
    "s3://acme-models/v3/", "s3://acme-models/v3/model.onnx", "s3://acme-models/v3/.hidden/", "s3://acme-models/a..b",
]  # fmt: skip


def _module_refuses(module: str, values: dict[str, object]) -> bool:
    from mlfargate.terraform import config_check as tfcore

    return any(d.severity == "error" for d in tfcore.check_variable_values(REPO / "modules" / module, values))


def test_credential_name_expression_is_the_modules() -> None:
    from mlfargate.spec import rules

    assert rules.CREDENTIAL_NAME in (REPO / "modules/ecs-service/variables.tf").read_text()


@pytest.mark.slow
def test_credential_names_are_refused_alike_by_the_rules_and_the_ecs_service_module() -> None:
    from mlfargate.spec import rules

    by_rules = {n: bool(re.search(rules.CREDENTIAL_NAME, n)) for n in _NAMES}
    assert sum(by_rules.values()) == 10  # the sample holds both kinds
    by_module = {n: _module_refuses("ecs-service", {**_SERVICE, "environment": {n: "x"}}) for n in _NAMES}
    assert by_module == by_rules


@pytest.mark.slow
def test_model_uris_are_refused_alike_by_the_rules_and_the_iam_module() -> None:
    from mlfargate.spec import rules

    by_rules = {u: rules.model_uri_error(u) is not None for u in _URIS}
    assert sum(by_rules.values()) == 8
    base = {"name": "llm-prod", "capacity": "fargate"}
    by_module = {u: _module_refuses("iam", {**base, "model_s3_uri": u}) for u in _URIS}
    assert by_module == by_rules
