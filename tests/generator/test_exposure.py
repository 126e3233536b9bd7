"""What a generated deployment exposes (issue #13, sections 2 to 4), from the spec to the gate.

* Exposure is the spec's choice: internal or internet-facing, who may connect, HTTPS unless the
  spec chose plain HTTP, an optional WAF; only /predict (and the readiness path) reach the service.
* The plain-HTTP checkov waivers are written into the workspace only when the spec chose plain HTTP;
  anywhere else a plain-HTTP listener fails the gate (directory scan and plan scan). Before this,
  the alb module waived them itself, so any plain-HTTP workspace passed.
* Egress is the VPC and S3's prefix list without NAT; with NAT 443 to service.egress_cidrs.
* Secrets reach the task definition's ``secrets`` and the execution role's grant as ARNs only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlfargate.generate import model as wsmodel
from mlfargate.generate import wiring
from mlfargate.generate.sources import local_source
from mlfargate.generate.workspace import generate
from mlfargate.policy import gate
from mlfargate.spec.model import from_data
from mlfargate.spec.rules import load_valid
from tests.generator.conftest import REPO

DEV = REPO / "environments/dev/mlfargate.yaml"  # public, plain HTTP chosen, no NAT
PROD = REPO / "environments/prod/mlfargate.yaml"  # public HTTPS, NAT, GPU on EC2
INTERNAL = REPO / "examples/cpu-fargate-spot.yaml"  # internal, no certificate, no NAT
EXISTING = REPO / "examples/existing-vpc.yaml"  # HTTPS, partner CIDRs, WAF, secrets, existing VPC
PLAIN_HTTP = {"CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_20"}


def _calls(spec_path: Path) -> dict[str, dict[str, wsmodel.Value]]:
    return {name: inputs for name, _m, inputs, _c in wiring.module_calls(load_valid(spec_path))}


def _plan(spec_path: Path) -> wsmodel.WorkspacePlan:
    return wiring.plan(load_valid(spec_path), local_source(REPO / "environments" / "x"), spec_text="")


def _waivers(spec_path: Path, module: str = "alb") -> dict[str, str]:
    call = next(m for m in _plan(spec_path).modules if m.name == module)
    return {check: reason for check, reason in call.waivers if not check.startswith("CKV_TF_")}


def _one(value: Any) -> Any:
    """bc-python-hcl2 gives an attribute as a one-element list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


# --------------------------------------------------------------------------------------------------
# Wiring


def test_public_plain_http_is_wired_as_chosen() -> None:
    alb = _calls(DEV)["alb"]
    assert alb["allow_plain_http"] is True and "certificate_arn" not in alb and "internal" not in alb
    assert alb["subnet_ids"] == wsmodel.Ref("module.network.public_subnet_ids")
    assert alb["ingress_cidrs"] == ["0.0.0.0/0"]
    assert alb["forwarded_paths"] == ["/predict", "/ready"]
    waivers = _waivers(DEV)
    assert set(waivers) == PLAIN_HTTP | {"CKV_AWS_260"}
    assert all("service.allow_plain_http: true in the spec" in reason for reason in waivers.values())


def test_https_gets_no_plain_http_waivers() -> None:
    alb = _calls(PROD)["alb"]
    assert "allow_plain_http" not in alb and alb["certificate_arn"]
    assert _waivers(PROD) == {}


def test_internal_is_in_the_private_subnets_open_to_the_vpc_only() -> None:
    alb = _calls(INTERNAL)["alb"]
    assert alb["internal"] is True and alb["allow_plain_http"] is True
    assert alb["subnet_ids"] == wsmodel.Ref("module.network.private_subnet_ids")
    assert alb["ingress_cidrs"] == [wsmodel.Ref("module.network.vpc_cidr")]
    waivers = _waivers(INTERNAL)
    assert set(waivers) == PLAIN_HTTP  # port 80 is not open to 0.0.0.0/0: no CKV_AWS_260 waiver
    assert all("service.internal: true" in reason for reason in waivers.values())


def test_ingress_and_waf_come_from_the_spec() -> None:
    spec = load_valid(EXISTING)
    alb = _calls(EXISTING)["alb"]
    assert alb["ingress_cidrs"] == spec.service.ingress_cidrs == ["198.51.100.0/24", "203.0.113.0/24"]
    assert alb["waf_web_acl_arn"] == spec.service.waf_web_acl_arn


def test_egress_without_nat_is_the_vpc_and_s3_only() -> None:
    calls = _calls(DEV)
    assert calls["ecs_service"]["egress_cidrs"] == [wsmodel.Ref("module.network.vpc_cidr")]
    assert calls["ecs_service"]["egress_prefix_list_ids"] == [wsmodel.Ref("module.network.s3_prefix_list_id")]


def test_egress_with_nat_adds_egress_cidrs_for_tasks_and_hosts() -> None:
    calls = _calls(PROD)
    for module in ("ecs_service", "gpu_capacity"):
        assert calls[module]["egress_cidrs"] == [wsmodel.Ref("module.network.vpc_cidr"), "0.0.0.0/0"]
        assert calls[module]["egress_prefix_list_ids"] == [wsmodel.Ref("module.network.s3_prefix_list_id")]
    data = yaml.safe_load(PROD.read_text())
    data["service"]["egress_cidrs"] = ["198.51.100.0/24"]
    narrowed = {n: i for n, _m, i, _c in wiring.module_calls(from_data(data))}
    assert narrowed["ecs_service"]["egress_cidrs"] == [
        wsmodel.Ref("module.network.vpc_cidr"),
        "198.51.100.0/24",
    ]


def test_an_existing_vpc_reads_s3s_prefix_list() -> None:
    ws = _plan(EXISTING)
    prefix = next(d for d in ws.data_sources if d.type == "aws_prefix_list")
    assert prefix.inputs == {"name": "com.amazonaws.eu-west-1.s3"}
    calls = {m.name: m.inputs for m in ws.modules}
    assert calls["ecs_service"]["egress_cidrs"] == [
        wsmodel.Ref("data.aws_vpc.existing.cidr_block"),
        "10.60.0.0/16",
    ]
    assert calls["ecs_service"]["egress_prefix_list_ids"] == [wsmodel.Ref("data.aws_prefix_list.s3.id")]


def test_secrets_are_arns_in_the_task_definitions_secrets_and_the_execution_roles_grant() -> None:
    data = yaml.safe_load(EXISTING.read_text())
    base = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:fraud/db-AbCdEf"
    data["service"]["secrets"]["DB_USER"] = base + ":username::"
    data["service"]["secrets"]["DB_PASS"] = base + ":password::"
    spec = from_data(data)
    calls = {n: i for n, _m, i, _c in wiring.module_calls(spec)}
    service, iam = calls["ecs_service"], calls["iam"]
    assert service["secrets"] == dict(sorted(spec.service.secrets.items()))
    assert not set(spec.service.secrets) & set(service["environment"])  # type: ignore[arg-type]
    assert not any("secretsmanager" in str(v) for v in service["environment"].values())  # type: ignore[union-attr]
    # the grant is exactly the secrets named, without ECS's json-key suffix, each once
    assert iam["secret_arns"] == sorted(
        {base, "arn:aws:secretsmanager:eu-west-1:210987654321:secret:fraud/feature-store-token-Ab12Cd"}
    )
    assert iam["secret_kms_key_arns"] == [spec.service.secrets_kms_key_arn]


def test_secret_arns_appear_only_in_the_module_calls_that_need_them(tmp_path: Path) -> None:
    out = generate(EXISTING, tmp_path / "ws").out_dir
    arn = load_valid(EXISTING).service.secrets["FEATURE_STORE_TOKEN"]
    for name in ("terraform.tfvars", "variables.tf", "outputs.tf", "providers.tf", "versions.tf"):
        assert "secretsmanager" not in (out / name).read_text(), name
    main = (out / "main.tf").read_text()
    blocks = dict(re.findall(r'(?ms)^module "(\w+)" \{\n(.*?)^\}', main))
    holding = sorted(name for name, body in blocks.items() if arn in body)
    assert holding == ["ecs_service", "iam"]
    environment = re.search(r"(?ms)^  environment = \{\n(.*?)^  \}", blocks["ecs_service"])
    assert environment and "secretsmanager" not in environment[1]


def test_the_ecs_service_module_injects_secrets_through_value_from() -> None:
    import hcl2

    locals_ = hcl2.loads((REPO / "modules/ecs-service/main.tf").read_text())["locals"]
    container = _one(next(block["container"] for block in locals_ if "container" in block))
    assert "'valueFrom': '${var.secrets[k]}'" in str(container["secrets"])
    assert "var.secrets" not in str(container["environment"])


def test_gpu_hosts_block_imds_for_awsvpc_tasks_and_keep_imdsv2_hop_limit_1() -> None:
    import hcl2

    main = hcl2.loads((REPO / "modules/gpu-capacity/main.tf").read_text())
    user_data = _one(next(block["user_data"] for block in main["locals"] if "user_data" in block))
    assert "\nECS_AWSVPC_BLOCK_IMDS=true\n" in user_data
    template = main["resource"][[("aws_launch_template" in r) for r in main["resource"]].index(True)]
    metadata = template["aws_launch_template"]["this"]["metadata_options"][0]
    assert _one(metadata["http_tokens"]) == "required" and _one(metadata["http_put_response_hop_limit"]) == 1


# --------------------------------------------------------------------------------------------------
# The gate


def _spec_copy(tmp_path: Path, source: Path, **service: Any) -> Path:
    data = yaml.safe_load(source.read_text())
    for key, value in service.items():
        if value is None:
            data["service"].pop(key, None)
        else:
            data["service"][key] = value
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _failed(report: Any) -> set[str]:
    return {f.check_id for f in report.failed if f.resource.startswith("module.alb.")}


@pytest.mark.slow
def test_the_gate_fails_a_public_plain_http_workspace_the_spec_did_not_choose(tmp_path: Path) -> None:
    """An HTTPS workspace whose alb call is edited to plain HTTP: no waiver, so the gate fails.
    (Before, the alb module carried the plain-HTTP waivers itself and this passed.)"""
    out = generate(PROD, tmp_path / "ws").out_dir
    main = out / "main.tf"
    text = main.read_text()
    cert = re.search(r'(?m)^  certificate_arn   = "[^"]+"\n', text)
    assert cert
    main.write_text(text.replace(cert[0], "  allow_plain_http  = true\n"))
    report = gate.scan_directory(out)
    assert not report.ok
    assert _failed(report) == PLAIN_HTTP | {"CKV_AWS_260"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "service", "reason"),
    [
        (DEV, {}, "service.allow_plain_http: true"),
        (INTERNAL, {}, "service.internal: true"),
    ],
)
def test_the_gate_passes_plain_http_the_spec_chose_and_fails_without_its_waivers(
    tmp_path: Path, source: Path, service: dict[str, Any], reason: str
) -> None:
    out = generate(_spec_copy(tmp_path, source, **service), tmp_path / "ws").out_dir
    report = gate.scan_directory(out)
    assert report.ok, [f"{f.check_id} {f.resource}" for f in report.failed]
    waived = {
        w.check_id for w in report.waived if w.resource.startswith("module.alb.") and reason in w.reason
    }
    assert waived >= PLAIN_HTTP
    main = out / "main.tf"
    main.write_text(
        "".join(ln for ln in main.read_text().splitlines(keepends=True) if reason.split(":")[0] not in ln)
    )
    assert _failed(gate.scan_directory(out)) >= PLAIN_HTTP


def _plan_json(protocol: str, port: int) -> dict[str, Any]:
    listener = {
        "port": port,
        "protocol": protocol,
        "ssl_policy": None,
        "certificate_arn": None,
        "default_action": [
            {
                "type": "fixed-response",
                "fixed_response": [
                    {"content_type": "text/plain", "message_body": "Not Found", "status_code": "404"}
                ],
                "redirect": [],
                "forward": [],
                "target_group_arn": None,
            }
        ],
        "tags": None,
    }
    address = "module.alb.aws_lb_listener.this"
    common = {"mode": "managed", "type": "aws_lb_listener", "name": "this"}
    provider = {"provider_name": "registry.terraform.io/hashicorp/aws"}
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {
            "root_module": {
                "child_modules": [
                    {
                        "address": "module.alb",
                        "resources": [
                            {
                                "address": address,
                                **common,
                                **provider,
                                "schema_version": 0,
                                "values": listener,
                            }
                        ],
                    }
                ]
            }
        },
        "resource_changes": [
            {
                "address": address,
                "module_address": "module.alb",
                **common,
                **provider,
                "change": {"actions": ["create"], "before": None, "after": listener, "after_unknown": {}},
            }
        ],
    }


@pytest.mark.slow
def test_the_plan_gate_honours_the_waivers_of_the_alb_call_only_when_written(tmp_path: Path) -> None:
    """The plan scan applies a module block's waivers to its resources too (checkov's
    handle_skipped_checks), so a chosen plain-HTTP deployment passes `mlfargate plan`'s gate and an
    unchosen one fails it."""
    out = generate(_spec_copy(tmp_path, DEV), tmp_path / "ws").out_dir
    plan = out / ".mlfargate" / "plan.json"
    plan.parent.mkdir()
    plan.write_text(json.dumps(_plan_json("HTTP", 80)))
    report = gate.scan_plan(plan, out)
    assert report.ok and {"CKV_AWS_2", "CKV_AWS_103"} <= {w.check_id for w in report.waived}
    main = out / "main.tf"
    main.write_text(
        "".join(ln for ln in main.read_text().splitlines(keepends=True) if "allow_plain_http: true" not in ln)
    )
    assert {"CKV_AWS_2", "CKV_AWS_103"} <= {f.check_id for f in gate.scan_plan(plan, out).failed}


def test_the_listener_answers_404_except_the_forwarded_paths() -> None:
    """modules/alb: the clients' listener's default action is a fixed 404 and the one listener rule
    forwards exactly alb.forwarded_paths (so /metrics never reaches a task from outside)."""
    import hcl2

    main = hcl2.loads((REPO / "modules/alb/main.tf").read_text())
    resources = {
        (t, n): body for r in main["resource"] for t, named in r.items() for n, body in named.items()
    }
    listeners = [k for k in resources if k[0] == "aws_lb_listener"]
    assert listeners == [("aws_lb_listener", "this")]  # no second (redirect or forwarding) listener
    default = resources[("aws_lb_listener", "this")]["default_action"][0]
    assert _one(default["type"]) == "fixed-response"
    assert _one(default["fixed_response"][0]["status_code"]) == "404"
    rule = resources[("aws_lb_listener_rule", "forward")]
    assert _one(rule["action"][0]["type"]) == "forward"
    assert _one(rule["condition"][0]["path_pattern"][0]["values"]) == "${var.forwarded_paths}"
