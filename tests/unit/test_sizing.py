"""GPU sizing: the memory rule, explained rejections, ranking, the measured-throughput file, the spec comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlfargate import cli
from mlfargate.cost import estimate as cost
from mlfargate.cost import price_book, sizing
from mlfargate.spec import rules

REPO = Path(__file__).resolve().parents[2]
GIB = 1024**3


@pytest.fixture(autouse=True)
def no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(price_book.CACHE_ENV, str(tmp_path / "cache"))


def by_type(result: sizing.Sizing) -> tuple[dict[str, sizing.Fit], dict[str, sizing.Rejection]]:
    return {f.instance_type: f for f in result.fits}, {r.instance_type: r for r in result.rejections}


def test_memory_rule() -> None:
    req = sizing.requirement(7, "fp16")
    assert req.weights_gib == pytest.approx(14e9 / GIB)
    assert req.required_gib == pytest.approx(14e9 / GIB * 1.2)
    assert sizing.requirement(7, "int4").required_gib == pytest.approx(3.5e9 / GIB * 1.2)
    assert sizing.requirement(1, "fp32").weights_gib == pytest.approx(4e9 / GIB)


def test_small_model_fits_every_nvidia_type_and_rejects_the_rest_with_reasons() -> None:
    fits, rejected = by_type(sizing.size(6, "fp16", price_book.load("us-east-1")))
    assert "g4dn.xlarge" in fits and fits["g4dn.xlarge"].gpus_per_replica == 1
    assert fits["g5.12xlarge"].replicas_per_instance == 4
    assert rejected["c6i.xlarge"].code == "no_gpu" and rejected["c6i.xlarge"].reason == "no GPUs"
    assert rejected["inf2.xlarge"].code == "neuron" and "Neuron" in rejected["inf2.xlarge"].reason
    ranked = [f.on_demand_hour for f in sizing.size(6, "fp16", price_book.load("us-east-1")).fits]
    assert ranked == sorted(ranked) and ranked[0] == 0.526


def test_a_16_gb_t4_is_not_a_fit_for_a_model_that_needs_15_6_gib() -> None:
    """Bug: usable device memory is less than nominal (ECC/driver reservation, then the CUDA context and
    allocator): a T4 shows 15110 MB of its 16 GiB to CUDA. Sizing against the nominal 16 GiB called a
    T4 a fit for a replica needing 15.6 GiB."""
    result = sizing.size(6.98, "fp16", price_book.load("us-east-1"))
    assert result.requirement.required_gib == pytest.approx(15.6, abs=0.01)
    fits, rejected = by_type(result)
    assert "g4dn.xlarge" not in fits and rejected["g4dn.xlarge"].code == "gpu_memory"
    reason = rejected["g4dn.xlarge"].reason
    assert "needs 15.6 GiB per replica" in reason and "1 x 16 GiB" in reason
    assert "14.2 GiB usable" in reason and "8%" in reason and "0.5 GiB" in reason
    assert sizing.usable_gib(16) == pytest.approx(16 * 0.92 - 0.5)
    assert fits["g4dn.12xlarge"].gpus_per_replica == 2  # two T4s hold it
    assert fits["g5.xlarge"].gpus_per_replica == 1  # an A10G has 21.6 GiB usable
    assert any("usable" in a and "0.92" in a for a in result.assumptions)


def test_large_model_shards_over_gpus_and_small_gpus_are_too_small() -> None:
    result = sizing.size(70, "fp16", price_book.load("us-east-1"))
    fits, rejected = by_type(result)
    need = 140e9 / GIB * 1.2  # 156.5 GiB
    assert result.requirement.required_gib == pytest.approx(need)
    # usable: A100 40 GiB -> 36.3, so 4 hold 145.2 < 156.5: 8 GPUs; H100 80 GiB -> 73.1, 2 hold 146.2: 4 GPUs.
    assert (fits["p4d.24xlarge"].gpus_per_replica, fits["p4d.24xlarge"].replicas_per_instance) == (8, 1)
    assert (fits["p5.48xlarge"].gpus_per_replica, fits["p5.48xlarge"].replicas_per_instance) == (4, 2)
    assert fits["g5.48xlarge"].gpus_per_replica == 8 and fits["g6e.12xlarge"].gpus_per_replica == 4
    assert rejected["g5.xlarge"].code == "gpu_memory"
    assert "needs 156.5 GiB per replica, has 1 x 24 GiB" in rejected["g5.xlarge"].reason
    assert rejected["g4dn.12xlarge"].code == "gpu_memory"  # 4 x 16 = 64 GiB


def test_types_without_a_price_in_the_region_are_rejected_as_not_in_region() -> None:
    fits, rejected = by_type(sizing.size(7, "fp16", price_book.load("eu-west-1")))
    assert rejected["g6.xlarge"].code == "not_in_region" and "eu-west-1" in rejected["g6.xlarge"].reason
    assert "g5.xlarge" in fits and fits["g5.xlarge"].on_demand_hour == 1.123


def test_throughput_ranks_by_cost_per_million_requests() -> None:
    tp = sizing.Throughput(rps_per_gpu=4, target_rps=50, source="test")
    result = sizing.size(6, "fp16", price_book.load("us-east-1"), throughput=tp)
    first = result.fits[0]
    assert first.instance_type == "g4dn.xlarge"
    assert first.usd_per_million_requests == pytest.approx(0.526 / (4 * 3600) * 1e6)
    assert first.instances_for_target == 13  # ceil(50 / 4)
    assert first.monthly_on_demand_for_target == pytest.approx(13 * 0.526 * 730)
    g5x12 = next(f for f in result.fits if f.instance_type == "g5.12xlarge")
    assert g5x12.instance_rps == 16 and g5x12.instances_for_target == 4
    per_million = [f.usd_per_million_requests for f in result.fits]
    assert per_million == sorted(per_million)


@pytest.mark.parametrize(
    ("params", "precision", "message"), [(7, "fp8", "precision 'fp8'"), (-1, "fp16", "positive")]
)
def test_bad_requirement(params: float, precision: str, message: str) -> None:
    with pytest.raises(sizing.SizingError, match=message):
        sizing.requirement(params, precision)


def write_benchmark(path: Path, **over: object) -> Path:
    data = {
        "schema": "mlfargate.serve-benchmark/1",
        "device": "cpu",
        "measured_rps_per_replica": 12.5,
        "levels": [{"concurrency": 1, "rps": 10.0}, {"concurrency": 8, "rps": 12.5}],
        "date": "2026-11-26",
        **over,
    }
    path.write_text(json.dumps(data))
    return path


def test_measured_file_supplies_rps_per_gpu(tmp_path: Path) -> None:
    m = sizing.read_measurement(write_benchmark(tmp_path / "serve-cpu.json"))
    assert (m.device, m.rps_per_replica, m.date) == ("cpu", 12.5, "2026-11-26")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"schema": "something/else"}, "schema is 'something/else'"),
        ({"measured_rps_per_replica": -2}, "must be a positive number"),
        ({"measured_rps_per_replica": "fast"}, "must be a positive number"),
    ],
)
def test_bad_measured_file(tmp_path: Path, content: dict[str, object], message: str) -> None:
    path = write_benchmark(tmp_path / "serve-x.json", **content)
    with pytest.raises(sizing.InputFileError, match=message):
        sizing.read_measurement(path)


def test_comparison_with_the_spec_choice() -> None:
    spec = rules.load_valid(REPO / "examples" / "gpu-ec2-spot-schedules.yaml")
    b = price_book.load("us-east-1")
    result = sizing.size(6, "fp16", b, spec=spec)
    cmp = result.comparison
    assert cmp is not None and cmp.spec_choice is not None and cmp.alternative is not None
    mine = cost.estimate(spec, b)
    assert cmp.spec_choice.instance_type == "g5.xlarge"
    assert cmp.spec_choice.monthly_floor == pytest.approx(mine.monthly_floor)
    assert cmp.spec_choice.monthly_ceiling == pytest.approx(mine.monthly_ceiling)
    # g4dn.xlarge holds 6B fp16 (13.4 GiB <= 14.2 usable) and the spec's task (4096 units, 14336 MiB <= 15731
    # registered).
    assert cmp.alternative.instance_type == "g4dn.xlarge"
    alt_spec = spec.model_copy(
        update={"compute": spec.compute.model_copy(update={"instance_types": ["g4dn.xlarge"]})}
    )
    assert cmp.alternative.monthly_ceiling == pytest.approx(cost.estimate(alt_spec, b).monthly_ceiling)
    assert cmp.monthly_ceiling_saving == pytest.approx(mine.monthly_ceiling - cmp.alternative.monthly_ceiling)
    # A bigger model: the spec's g5.xlarge no longer fits, and the note says so.
    big = sizing.size(13, "fp16", b, spec=spec).comparison
    assert big is not None and any("does not fit" in n for n in big.notes)
    assert big.alternative is not None and big.alternative.instance_type != "g5.xlarge"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_size_cli_json_with_measured_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = write_benchmark(tmp_path / "serve-cpu.json")
    code, stdout, _ = run_cli(
        [
            "size",
            "--params-billion",
            "6",
            "--precision",
            "bf16",
            "--target-rps",
            "100",
            "--measured",
            str(bench),
            "--json",
        ],
        capsys,
    )
    assert code == 0
    data = json.loads(stdout)
    assert data["throughput"]["rps_per_gpu"] == 12.5 and "measured on cpu" in data["throughput"]["source"]
    assert data["ranked_by"] == "usd_per_million_requests"
    assert data["recommendations"][0]["instances_for_target"] == 8  # ceil(100 / 12.5)
    assert {r["code"] for r in data["rejections"]} == {"no_gpu", "neuron"}
    assert data["price_date"] == "2026-01-15"
    assert any("ran on 'cpu', not a GPU" in a for a in data["assumptions"])


def test_size_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(
        [
            "size",
            "--params-billion",
            "6",
            "--precision",
            "fp16",
            "--spec",
            str(REPO / "examples" / "gpu-ec2-spot-schedules.yaml"),
        ],
        capsys,
    )
    assert code == 0
    assert "fits (cheapest first by on-demand price per hour)" in stdout
    assert "inf2.xlarge: AWS Inferentia2 is a Neuron device" in stdout
    assert "spec: g5.xlarge" in stdout and "alternative: g4dn.xlarge" in stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--params-billion", "7", "--precision", "fp8"], "--precision 'fp8' is not known"),
        (["--params-billion", "-3", "--precision", "fp16"], "--params-billion must be a positive number"),
        (["--params-billion", "seven", "--precision", "fp16"], "--params-billion must be a number"),
        (
            ["--params-billion", "7", "--precision", "fp16", "--measured", "/nonexistent/serve.json"],
            "no such file",
        ),
        (["--params-billion", "7", "--precision", "fp16", "--target-rps", "5"], "--target-rps needs"),
        (
            ["--params-billion", "7", "--precision", "fp16", "--rps-per-gpu", "0"],
            "--rps-per-gpu must be a positive",
        ),
    ],
)
def test_size_bad_input_is_one_line_and_exit_2(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, stderr = run_cli(["size", *extra], capsys)
    assert code == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and message in stderr


def test_size_bad_measured_schema_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = write_benchmark(tmp_path / "serve-gpu.json", schema="mlfargate.serve-benchmark/0")
    code, _, stderr = run_cli(
        ["size", "--params-billion", "7", "--precision", "fp16", "--measured", str(bench)], capsys
    )
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "mlfargate.serve-benchmark/1" in stderr


def test_a_cuda_measurement_is_a_gpu_measurement() -> None:
    """The model-server benchmark names a CUDA device ``cuda:<GPU name>`` (benchmarks/serve.py, as in
    benchmarks/results/serve-cuda-h200.json): that is a GPU, so no 'not a GPU' warning."""
    book = price_book.load("us-east-1", use_cache=False)
    for device in ("cuda:NVIDIA H200", "cuda", "gpu"):
        tp = sizing.Throughput(1000.0, None, "measured", device)
        result = sizing.size(7, "fp16", book, throughput=tp)
        assert not any("not a GPU" in a for a in result.assumptions), device
    cpu = sizing.size(7, "fp16", book, throughput=sizing.Throughput(10.0, None, "measured", "cpu"))
    assert any("ran on 'cpu', not a GPU" in a for a in cpu.assumptions)
