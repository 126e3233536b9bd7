"""Step 3 through the pilot: Fargate never offered for a GPU (and why), the sizing table from the core
(with the measured throughput), a pick filling the instance type and the task size, task sizes
restricted to what the capacity takes, and the container fields."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, RadioButton, Static

from mlfargate.cost import price_book, sizing
from mlfargate.spec import catalog
from tests.tui.conftest import EXAMPLES, REPO, SIZE, errors_shown, goto, make_app, settle, type_into, wizard
from tui.widgets.fields import ChoiceField
from tui.wizard import model


def test_task_size_helpers_fit_the_instance() -> None:
    cat = catalog.load()
    g6 = cat.instance_types["g6.xlarge"]
    cpus, mems = model.instance_cpu_options(g6), model.instance_memory_options(g6)
    assert cpus[0] == 256 and cpus[-1] == g6.cpu_units
    assert max(mems) <= g6.registered_memory_mib and 14336 in mems
    for cpu, mem in ((c, m) for c in cpus for m in mems):
        assert g6.tasks_per_instance(cpu, mem, 1) >= 1
    big = cat.instance_types["g5.12xlarge"]  # 4 GPUs: 4 replicas of one GPU each
    cpu, mem = model.task_for(big, 4)
    assert big.tasks_per_instance(cpu, mem, 1) == 4
    assert model.nearest(3000, [1024, 2048, 4096]) == 2048 and model.nearest("x", [512, 1024]) == 512


def test_the_gpu_benchmark_wins_over_the_cpu_one(tmp_path: Path) -> None:
    results = model.benchmark_results([REPO])
    assert {p.name for p in results} >= {"serve-cpu.json", "serve-cuda-h200.json"}
    tp = model.measured_throughput(results, REPO)
    assert tp is not None and tp.device == "cuda:NVIDIA H200"
    assert tp.source.startswith("measured on cuda:NVIDIA H200 (benchmarks/results/serve-cuda-h200.json")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "serve-bad.json").write_text("{}")
    assert model.measured_throughput(model.benchmark_results([tmp_path]), tmp_path) is None


async def test_fargate_is_not_offered_for_a_gpu(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "model")
        assert app.state.get("compute.accelerator") == "gpu"
        fargate = app.screen.query_one("#cap-fargate", RadioButton)
        assert fargate.disabled
        assert "Fargate has no GPUs" in str(app.screen.query_one("#fargate-note", Static).render())
        await pilot.click("#cap-fargate")
        await pilot.pause()
        assert app.state.get("compute.capacity") == "ec2"  # a disabled choice cannot be made
        # CPU only: Fargate is offered, and choosing it leaves a valid Fargate task
        await pilot.click("#acc-none")
        await pilot.pause()
        assert not fargate.disabled and app.state.get("compute.gpus_per_task") is None
        await pilot.click("#cap-fargate")
        await pilot.pause()
        assert app.state.get("compute.capacity") == "fargate"
        assert app.state.get("compute.instance_types") is None
        assert (app.state.get("compute.cpu"), app.state.get("compute.memory")) == (4096, 14336)
        assert errors_shown(app, "model") == []
        cpu = app.screen.query_one("#cpu", ChoiceField)
        assert [v for _, v in cpu.choices] == sorted(catalog.load().fargate_sizes)
        cpu.value = 1024  # 14336 MiB is not a 1 vCPU Fargate size: the memory follows
        await pilot.pause()
        assert app.state.get("compute.memory") in catalog.load().fargate_memory_for(1024)
        memory = app.screen.query_one("#memory", ChoiceField)
        assert [v for _, v in memory.choices] == list(catalog.load().fargate_memory_for(1024))
        assert errors_shown(app, "model") == []
        # back to GPU: Fargate is left for ECS on EC2, and said so
        await pilot.click("#acc-gpu")
        await pilot.pause()
        assert app.state.get("compute.capacity") == "ec2" and fargate.disabled
        assert errors_shown(app, "model") == [
            "spec error: compute.instance_types: capacity ec2 needs at least one instance type"
        ]
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert wizard(app).current == "model"


async def test_a_gpu_spec_on_fargate_shows_the_cores_error(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        (EXAMPLES / "gpu-ec2-spot-schedules.yaml").read_text().replace("capacity: ec2", "capacity: fargate")
    )
    app = make_app(spec)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert wizard(app).current == "review"  # an existing spec opens at the review step
        await goto(app, pilot, "model")
        shown = errors_shown(app, "model")
        assert (
            "spec error: compute.capacity: Fargate has no GPUs; use capacity: ec2 (ECS on EC2, GPU AMI) or "
            "managed_instances for a GPU server"
        ) in shown


async def test_the_sizing_table_and_a_pick(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "model")
        await type_into(pilot, "#params", "30")
        table = app.screen.query_one("#sizing", DataTable)
        book = price_book.load("us-east-1")
        tp = model.measured_throughput(model.benchmark_results([REPO]), REPO)
        expected = sizing.size(30, "fp16", book, throughput=tp)
        fits = [f.instance_type for f in expected.fits]
        shown = [str(key.value) for key in table.rows]
        assert shown[: len(fits)] == fits  # the core's ranking, cheapest per million requests first
        rejected = [r.instance_type for r in expected.rejections if r.code != "no_gpu"]
        assert shown[len(fits) :] == rejected
        g4 = shown.index("g4dn.xlarge")
        assert str(table.get_row_at(g4)[2]) == "no" and "too little GPU memory" in str(
            table.get_row_at(g4)[7]
        )
        assert "measured on cuda:NVIDIA H200" in str(app.screen.query_one("#sizing-note", Static).render())
        # 30B at fp16 needs 67 GiB per replica: a 4 x 24 GB g5.12xlarge holds one replica on 4 GPUs
        row = shown.index("g5.12xlarge")
        table.focus()
        table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert app.state.get("compute.instance_types") == ["g5.12xlarge"]
        assert str(table.get_row("g5.12xlarge")[0]) == "▸ g5.12xlarge"  # the spec's type is marked
        assert app.state.get("compute.gpus_per_task") == 4
        itype = catalog.load().instance_types["g5.12xlarge"]
        cpu, mem = app.state.get("compute.cpu"), app.state.get("compute.memory")
        assert (cpu, mem) == model.task_for(itype, 1)
        assert itype.tasks_per_instance(cpu, mem, 4) == 1
        assert errors_shown(app, "model") == []
        # a model that does not fit is refused with the core's reason
        table.move_cursor(row=shown.index("g4dn.xlarge"))
        await pilot.press("enter")
        await pilot.pause()
        assert app.state.get("compute.instance_types") == ["g5.12xlarge"]


async def test_memory_beyond_what_ecs_registers(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "model")
        memory = app.screen.query_one("#memory", ChoiceField)
        registered = catalog.load().instance_types["g5.xlarge"].registered_memory_mib
        assert max(v for _, v in memory.choices) <= registered  # only sizes that fit are offered
        app.state.set("compute.memory", 16384)  # as a hand-written spec might say
        memory.choose(16384)
        wizard(app).refresh_all(None)
        await pilot.pause()
        assert memory.value == 16384 and ("16384 (from the spec)", 16384) in memory.offered
        shown = errors_shown(app, "model")
        assert shown[0] == (
            f"spec error: compute.instance_types[0]: a task needs 16384 MiB but 'g5.xlarge' registers about "
            f"{registered} MiB with ECS (the agent reserves the rest); lower compute.memory or pick a larger type"
        )
        assert memory.has_class("-spec-error") is False  # the error is about the type list...
        assert app.screen.query_one("#f-compute-instance_types").has_class("-spec-error")


async def test_container_fields(tmp_path: Path) -> None:
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "model")
        await type_into(pilot, "#f-service-container_port", "0")
        assert errors_shown(app, "model") == [
            "spec error: service.container_port: 0 is out of range; allowed: a whole number from 1 to 65535"
        ]
        await type_into(pilot, "#f-service-container_port", "")
        assert errors_shown(app, "model") == [] and "service" in app.state.data
        assert app.state.get("service.container_port") is None
        assert app.screen.query_one("#f-service-container_port").placeholder == "8080 (default)"  # type: ignore[attr-defined]
        await type_into(
            pilot, "#f-service-certificate_arn", "arn:aws:acm:eu-west-1:123456789012:certificate/x"
        )
        assert errors_shown(app, "model") == [
            "spec error: service.certificate_arn: certificate is in 'eu-west-1'; an ALB needs an ACM certificate "
            "in its own region (us-east-1)"
        ]


async def test_one_keystroke_is_one_change(tmp_path: Path) -> None:
    """Textual calls an on_* handler of every class in the MRO: a step's own handler calling super()
    wrote each keystroke twice (two revisions, two analyses, two refreshes)."""
    app = make_app(tmp_path / "new.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto(app, pilot, "model")
        for selector in ("#f-compute-instance_types", "#f-service-container_port"):
            app.screen.query_one(selector).focus()
            await pilot.press("end")
            before = app.state.revision
            await pilot.press("1")
            await pilot.pause()
            assert app.state.revision == before + 1, selector
