"""Rendering: values as canonical HCL, module sources, the plan's wiring, no credentials."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlfargate.generate import hcl, sources, wiring
from mlfargate.generate import model as wsmodel
from mlfargate.spec.model import to_data
from mlfargate.spec.rules import load_valid
from tests.generator.conftest import ALL_SPECS, REPO, spec_id


def _plan(spec_path: Path, out: Path, **kw: object) -> wsmodel.WorkspacePlan:
    spec = load_valid(spec_path)
    return wiring.plan(spec, sources.local_source(out), spec_text=spec_path.read_text(), **kw)  # type: ignore[arg-type]


def test_hcl_values() -> None:
    assert hcl.hcl_value(None) == "null"
    assert hcl.hcl_value(True) == "true"
    assert hcl.hcl_value(60.0) == "60"
    assert hcl.hcl_value(0.5) == "0.5"
    assert hcl.hcl_value(wsmodel.Ref("module.a.b")) == "module.a.b"
    assert hcl.hcl_value(["a", 1]) == '["a", 1]'
    # Literal template sequences are escaped in HCL and in JSON alike.
    assert hcl.hcl_value("a${b}%{c}") == '"a$${b}%%{c}"'
    assert hcl.json_value("a${b}") == "a$${b}"
    tpl = wsmodel.Template((wsmodel.Ref("module.ecr.repository_url"), ":", wsmodel.Ref("var.image_tag")))
    assert hcl.hcl_value(tpl) == '"${module.ecr.repository_url}:${var.image_tag}"'
    assert hcl.json_value(tpl) == "${module.ecr.repository_url}:${var.image_tag}"
    cond = wsmodel.Conditional(wsmodel.Ref('var.d == ""'), tpl, wsmodel.Template(("a${b}",)))
    assert hcl.hcl_value(cond) == 'var.d == "" ? "${module.ecr.repository_url}:${var.image_tag}" : "a$${b}"'
    assert (
        hcl.json_value(cond) == '${var.d == "" ? "${module.ecr.repository_url}:${var.image_tag}" : "a$${b}"}'
    )
    assert hcl.json_value(wsmodel.Conditional(wsmodel.Ref("var.x"), 0, 2)) == "${var.x ? 0 : 2}"


def test_hcl_body_aligns_like_terraform_fmt() -> None:
    body = hcl.hcl_body({"a": 1, "long_name": "x", "tags": {"managed-by": "m", "b": 2}, "z": True}, 1)
    assert body == (
        "  a         = 1\n"
        '  long_name = "x"\n'
        "  tags = {\n"
        '    "managed-by" = "m"\n'
        "    b            = 2\n"
        "  }\n"
        "  z = true\n"
    )


def test_local_source_is_relative_inside_the_repo() -> None:
    source = sources.local_source(REPO / "environments" / "dev")
    assert source.for_module("network") == "../../modules/network"
    assert not source.vendored


def test_local_source_outside_the_repo_is_the_vendored_copy(tmp_path: Path) -> None:
    """Issue #16: outside the checkout the sources were absolute paths of this machine."""
    ws = _plan(REPO / "environments/dev/mlfargate.yaml", tmp_path / "ws")
    assert ws.source.vendored
    assert ws.modules[0].source == "./modules/network"
    stack = sources.local_source(tmp_path / "ws", tmp_path / "ws" / "cdktf.out" / "stacks" / "x")
    assert stack.for_module("network") == "../../../modules/network"
    assert not ws.notes


def test_local_source_needs_modules_dir(tmp_path: Path) -> None:
    with pytest.raises(wsmodel.RenderError, match="--modules-source git"):
        sources.local_source(tmp_path, modules=tmp_path / "nowhere")


def test_git_source_is_pinned() -> None:
    src = sources.git_source("v1.2.0", "https://git.example.com/acme/mlfargate.git")
    assert src.for_module("ecs-service") == (
        "git::https://git.example.com/acme/mlfargate.git//modules/ecs-service?ref=v1.2.0"
    )
    assert sources.git_source("modules/{module}/v1.0.0").for_module("alb").endswith("?ref=modules/alb/v1.0.0")
    with pytest.raises(wsmodel.RenderError, match="needs --modules-ref"):
        sources.git_source(None)
    with pytest.raises(wsmodel.RenderError, match="not a git tag"):
        sources.git_source("v1 && rm -rf /")


def test_git_repo_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sources.git_source("v1").base == sources.DEFAULT_MODULES_REPO
    monkeypatch.setenv(sources.MODULES_REPO_ENV, "https://git.internal/platform/mlfargate.git")
    assert sources.git_source("v1").base == "https://git.internal/platform/mlfargate.git"


def test_backend_commented_without_bucket_and_locked_with_one() -> None:
    spec_path = REPO / "environments/prod/mlfargate.yaml"
    out = REPO / "environments/prod"
    plain = hcl.render_hcl(_plan(spec_path, out))["versions.tf"]
    assert '  # backend "s3" {' in plain and '\n  backend "s3"' not in plain
    with_bucket = hcl.render_hcl(_plan(spec_path, out, backend_bucket="acme-tfstate"))["versions.tf"]
    assert '\n  backend "s3" {' in with_bucket
    assert "use_lockfile = true" in with_bucket
    assert 'key          = "mlfargate/sentiment-prod/terraform.tfstate"' in with_bucket


@pytest.mark.parametrize("spec_path", ALL_SPECS, ids=spec_id)
def test_workspace_files_and_no_credentials(spec_path: Path) -> None:
    ws = _plan(spec_path, REPO / "environments" / "x")
    files = hcl.render_hcl(ws)
    assert set(files) == {*hcl.HCL_FILES, wsmodel.SPEC_COPY}
    assert files[wsmodel.SPEC_COPY] == spec_path.read_text()
    providers = files["providers.tf"]
    assert "region  = var.aws_region" in providers and "profile = var.aws_profile" in providers
    assert '"managed-by" = "mlfargate"' in providers and "app " in providers and "environment " in providers
    for name, text in files.items():
        assert not re.search(r"(?i)(access_key|secret_key|aws_secret)", text), name
        # a *TOKEN variable may only name where ECS reads it from (service.secrets), never hold a value
        for match in re.finditer(r'(?i)token\s*=\s*"([^"]*)"', text):
            assert re.match(r"arn:aws[a-z-]*:(secretsmanager|ssm):", match[1]), (name, match[0])
    main = files["main.tf"]
    assert not re.search(r"(?m)^resource ", main)  # module calls only
    assert "cidrsubnet" not in main
    for out in ("endpoint_url", "cluster_name", "service_name", "log_group_name", "dashboard_url"):
        assert f'output "{out}"' in files["outputs.tf"]


def test_wiring_follows_the_spec() -> None:
    gpu = load_valid(REPO / "examples/gpu-ec2-spot-schedules.yaml")
    calls = {name: inputs for name, _m, inputs, _c in wiring.module_calls(gpu)}
    assert "ecr" not in calls  # the spec names its image
    assert calls["ecs_service"]["image"] == gpu.service.image
    assert calls["ecs_service"]["desired_count"] == gpu.scaling.min_tasks  # the spec's image: no hold
    assert "create" not in calls["autoscaling"]
    assert calls["iam"]["ecr_repository_arns"] == ["arn:aws:ecr:us-east-1:123456789012:repository/sentiment"]
    assert calls["gpu_capacity"]["spot_percentage"] == 70
    assert calls["gpu_capacity"]["max_size"] == 8  # one 4-vCPU task per g5.xlarge, 8 tasks at most
    assert calls["ecs_cluster"]["capacity_provider_names"] == wsmodel.Ref(
        "module.gpu_capacity.cluster_capacity_provider_names"
    )
    assert [s["name"] for s in calls["autoscaling"]["schedules"]] == ["night", "workday"]  # type: ignore[index, union-attr]
    assert calls["observability"]["budget"] == {"monthly_usd": 2500, "alert_email": "ops@example.com"}

    data = to_data(load_valid(REPO / "examples/cpu-fargate-spot.yaml"))
    cpu = load_valid(REPO / "examples/cpu-fargate-spot.yaml")
    calls = {name: inputs for name, _m, inputs, _c in wiring.module_calls(cpu)}
    assert "gpu_capacity" not in calls and "capacity_providers" not in calls["ecs_service"]
    assert calls["network"]["nat_gateways"] == data["network"]["nat_gateways"] == "none"
    # The repository this workspace creates: the pinned digest once `mlfargate image push` set one;
    # until then no task runs (desired count 0, no autoscaling that would raise it).
    unpinned = wsmodel.Ref('var.image_digest == ""')
    repository = wsmodel.Ref("module.ecr.repository_url")
    assert calls["ecs_service"]["image"] == wsmodel.Conditional(
        unpinned,
        wsmodel.Template((repository, ":pending-image-push")),
        wsmodel.Template((repository, "@", wsmodel.Ref("var.image_digest"))),
    )
    assert calls["ecs_service"]["desired_count"] == wsmodel.Conditional(unpinned, 0, cpu.scaling.min_tasks)
    assert calls["autoscaling"]["create"] == wsmodel.Ref('var.image_digest != ""')

    env = calls["ecs_service"]["environment"]
    # a prefix: the server downloads everything under it and loads the one model file found there
    assert cpu.service.model_uri == "s3://acme-models/churn/v7/"
    # ... and service.environment passes the model server's own settings through (MODEL_FILE here)
    assert env == {
        "PORT": "8080",
        "MODEL_PATH": "s3://acme-models/churn/v7/",
        "MODEL_FILE": "onnx/model.onnx",
    }
    dev = load_valid(REPO / "environments/dev/mlfargate.yaml")
    calls = {name: inputs for name, _m, inputs, _c in wiring.module_calls(dev)}
    assert calls["ecs_service"]["environment"] == {
        "PORT": "8080",
        "MODEL_PATH": dev.service.model_uri,
        "MAX_BATCH_DELAY_MS": "5",
        "MAX_BATCH_SIZE": "32",
    }
    assert calls["iam"]["model_s3_uri"] == dev.service.model_uri

    existing = load_valid(REPO / "examples/existing-vpc.yaml")
    calls = {name: inputs for name, _m, inputs, _c in wiring.module_calls(existing)}
    assert "network" not in calls
    assert calls["alb"]["subnet_ids"] == existing.network.public_subnet_ids
    assert calls["ecs_service"]["subnet_ids"] == existing.network.private_subnet_ids
    assert calls["alb"]["vpc_cidr"] == wsmodel.Ref("data.aws_vpc.existing.cidr_block")


def test_asg_is_sized_for_the_listed_type_that_holds_the_fewest_tasks() -> None:
    import yaml

    from mlfargate.spec.model import from_data

    data = yaml.safe_load((REPO / "examples/gpu-ec2-spot-schedules.yaml").read_text())
    # g5.12xlarge holds 4 one-GPU tasks, g5.xlarge one: 8 tasks may need 8 hosts if Spot gives g5.xlarge.
    data["compute"].update(instance_types=["g5.12xlarge", "g5.xlarge"])
    calls = {name: inputs for name, _, inputs, _ in wiring.module_calls(from_data(data))}
    assert calls["gpu_capacity"]["max_size"] == 8
