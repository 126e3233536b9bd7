"""Step 3, Model & GPU sizing: CPU-only or GPU; the model's size and precision give the core's sizing
table (fits / why not / $ per hour / $ per million requests, with the measured throughput when a
serve benchmark result is present) to pick an instance type from; the capacity (Fargate only for CPU:
the reason is shown for GPU); task CPU and memory restricted to what the capacity accepts (Fargate's
pairs; what ECS registers on the instance type); and the container the service runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, RadioButton, RadioSet, Select, Static

from mlfargate.errors import MlfargateError
from tui.format import shown_path
from tui.state import Analysis, WizardState
from tui.widgets.fields import ChoiceField, TextField
from tui.widgets.note import Note
from tui.wizard.base import StepBody, row

if TYPE_CHECKING:
    from mlfargate.cost.sizing import Sizing, Throughput
    from mlfargate.spec.catalog import Catalog, InstanceType

NO_GPU_ON_FARGATE = (
    "Fargate: not offered for a GPU server. Fargate has no GPUs (ECS rejects GPU resource "
    "requirements there); GPU tasks run on ECS on EC2 or ECS Managed Instances."
)
CAPACITIES = (("fargate", "Fargate"), ("ec2", "ECS on EC2"), ("managed_instances", "Managed Instances"))
PRECISIONS = ("fp32", "fp16", "bf16", "int8", "int4")
GIB = 1024


# --- pure helpers (tested without a terminal) ---------------------------------------------------------


def instance_cpu_options(itype: InstanceType) -> list[int]:
    """Task CPU units that fit one ``itype``: powers of two from 256, and the whole instance split 1..8 ways
    (rounded down to 256)."""
    units = itype.cpu_units
    out = {c for c in (256 * 2**i for i in range(12)) if c <= units}
    out |= {units // n // 256 * 256 for n in range(1, 9) if units // n >= 256}
    return sorted(out)


def instance_memory_options(itype: InstanceType) -> list[int]:
    """Task memory (MiB) that fits what ECS registers on ``itype``: 512, whole GiB up to 32 GiB, then
    steps of 4 GiB up to 128 GiB and of 16 GiB beyond, and the registered memory split 1..8 ways
    (rounded down to 512)."""
    reg = itype.registered_memory_mib
    grid = [
        512,
        *range(1024, 32768 + 1, 1024),
        *range(36864, 131072 + 1, 4096),
        *range(147456, 4194304, 16384),
    ]
    out = {m for m in grid if m <= reg}
    out |= {reg // n // 512 * 512 for n in range(1, 9) if reg // n >= 512}
    return sorted(out)


def nearest(value: Any, options: list[int]) -> int:
    """The option closest to ``value`` (the larger on a tie); the smallest when ``value`` is not a number."""
    if not isinstance(value, int) or isinstance(value, bool):
        return options[0]
    return min(options, key=lambda o: (abs(o - value), -o))


def task_for(itype: InstanceType, replicas: int) -> tuple[int, int]:
    """The largest task (CPU units, MiB) of which ``replicas`` fit on one ``itype``."""
    cpu = max(c for c in instance_cpu_options(itype) if c <= itype.cpu_units // replicas)
    mem = max(m for m in instance_memory_options(itype) if m <= itype.registered_memory_mib // replicas)
    return cpu, mem


def cpu_label(cpu: int) -> str:
    return f"{cpu} ({cpu / 1024:g} vCPU)"


def memory_label(mem: int, itype: InstanceType | None) -> str:
    text = f"{mem} MiB"
    if itype is not None:
        text += f" ({itype.registered_memory_mib // mem}/instance)"
    return text


def benchmark_results(roots: list[Path]) -> list[Path]:
    """``benchmarks/results/serve-*.json`` under each root (the working directory, the checkout)."""
    seen: dict[Path, Path] = {}
    for root in roots:
        for path in sorted((root / "benchmarks" / "results").glob("serve-*.json")):
            seen.setdefault(path.resolve(), path)
    return list(seen.values())


def _shown(path: Path, root: Path) -> str:
    shown = shown_path(path)
    if not Path(shown).is_absolute():
        return shown
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return shown


def measured_throughput(paths: list[Path], root: Path) -> Throughput | None:
    """The serve benchmark to size with: a GPU measurement before a CPU one, the newest first; files
    that are not serve benchmarks are skipped (the CLI's ``--measured`` reads them the same way)."""
    from mlfargate.cost import sizing

    found = []
    for path in paths:
        try:
            found.append(sizing.read_measurement(path))
        except MlfargateError:
            continue
    if not found:
        return None
    gpu = [m for m in found if sizing.is_gpu_device(m.device)]
    best = max(gpu or found, key=lambda m: (m.date, str(m.path)))
    return sizing.Throughput(
        best.rps_per_replica,
        None,
        f"measured on {best.device} ({_shown(best.path, root)}, {best.date or 'undated'})",
        best.device,
    )


class ModelStep(StepBody):
    STEP = "model"
    TITLE = "Model & GPU sizing"

    def __init__(self, state: WizardState) -> None:
        super().__init__(state)
        self.stashed_types: list[str] | None = None
        self.sizing: Sizing | None = None
        self.table_mode = ""
        self._throughput: Throughput | None = None
        self._throughput_read = False

    def compose_body(self) -> ComposeResult:
        yield Note("What the server runs on, and how big each task is.", classes="lead")
        with RadioSet(id="accelerator", compact=True):
            yield RadioButton("GPU", id="acc-gpu")
            yield RadioButton("CPU only", id="acc-none")
        with Horizontal(id="sizing-inputs", classes="row"):
            yield Note("Model size", classes="row-label")
            yield TextField("@params", kind="number", id="params", placeholder="7")
            yield Note("billion parameters   precision", classes="inline")
            yield ChoiceField("@precision", [(p, p) for p in PRECISIONS], id="precision")
        yield Note("", id="sizing-head", classes="hint", markup=False)
        yield DataTable[Text](id="sizing", cursor_type="row", zebra_stripes=True)
        yield Note("", id="sizing-note", classes="hint", markup=False)
        with Horizontal(classes="row"):
            yield Note("Capacity", classes="row-label")
            with RadioSet(id="capacity", compact=True):
                for key, label in CAPACITIES:
                    yield RadioButton(label, id=f"cap-{key}")
        yield Note("", id="fargate-note", classes="hint", markup=False)
        types = row(
            "Instance types",
            TextField("compute.instance_types", kind="list", placeholder="Enter on a table row, or type"),
            hint="the first sizes the tasks; more widen the Spot pools",
        )
        types.id = "types-row"
        yield types
        with Horizontal(classes="row"):
            yield Note("Task", classes="row-label")
            yield Note("CPU", classes="inline")
            yield ChoiceField("compute.cpu", [], id="cpu")
            yield Note("memory", classes="inline")
            yield ChoiceField("compute.memory", [], id="memory")
        yield Note("", id="task-note", classes="hint", markup=False)
        with Horizontal(classes="row"):
            yield Note("Architecture", classes="row-label")
            yield ChoiceField("compute.architecture", [("x86_64", "x86_64"), ("arm64", "arm64")], id="arch")
            yield Note("GPUs per task", classes="inline", id="gpus-label")
            yield ChoiceField("compute.gpus_per_task", [(str(n), n) for n in (1, 2, 4, 8)], id="gpus")
        with Vertical(id="container"):
            yield Note("Container & HTTPS", classes="section")
            yield row(
                "Image",
                TextField("service.image", placeholder="default: the ECR repository the workspace creates"),
            )
            yield row(
                "Model URI", TextField("service.model_uri", placeholder="s3://bucket/prefix/ (optional)")
            )
            yield row("Port", TextField("service.container_port", kind="int", placeholder="8080"))
            yield row("Health path", TextField("service.health_check_path", placeholder="/ready"))
            yield row(
                "Certificate",
                TextField("service.certificate_arn", placeholder="arn:aws:acm:…  (optional: HTTPS listener)"),
            )
            # Exposure is the spec's choice (issue 13): a public endpoint without a certificate needs
            # plain HTTP chosen explicitly, or an internal load balancer.
            yield row(
                "Exposure",
                ChoiceField(
                    "service.internal",
                    [("internet-facing load balancer", False), ("internal (inside the VPC)", True)],
                ),
            )
            yield row(
                "Plain HTTP",
                ChoiceField(
                    "service.allow_plain_http",
                    [("no: HTTPS needs the certificate", False), ("allowed (development)", True)],
                ),
            )
            yield row(
                "Clients",
                TextField(
                    "service.ingress_cidrs",
                    kind="list",
                    placeholder="CIDRs allowed in (default: anywhere if public, the VPC if internal)",
                ),
            )

    # --- values -----------------------------------------------------------------------------------

    @property
    def gpu(self) -> bool:
        return bool(self.state.get("compute.accelerator") == "gpu")

    @property
    def capacity(self) -> str:
        value = self.state.get("compute.capacity")
        return value if isinstance(value, str) else "fargate"

    def catalog(self) -> Catalog:
        from mlfargate.spec import catalog

        return catalog.load()

    def first_type(self) -> InstanceType | None:
        types = self.state.get("compute.instance_types")
        if isinstance(types, list) and types and isinstance(types[0], str):
            return self.catalog().instance(types[0])
        return None

    def load_more(self) -> None:
        with self.prevent(Input.Changed, Select.Changed):
            self.query_one("#params", TextField).value = self.state.params_billion
            self.query_one("#precision", ChoiceField).choose(self.state.precision)
        with self.prevent(RadioSet.Changed):
            self.query_one("#acc-gpu" if self.gpu else "#acc-none", RadioButton).value = True
            if self.capacity in dict(CAPACITIES):
                self.query_one(f"#cap-{self.capacity}", RadioButton).value = True
        self._task_options()
        self._show_mode()

    def _show_mode(self) -> None:
        gpu = self.gpu
        fargate_button = self.query_one("#cap-fargate", RadioButton)
        fargate_button.disabled = gpu
        label = "Fargate (no GPUs)" if gpu else "Fargate"
        if str(fargate_button.label) != label:
            fargate_button.label = label
        self.query_one("#fargate-note", Static).update(NO_GPU_ON_FARGATE if gpu else "")
        self.query_one("#fargate-note").display = gpu
        self.query_one("#sizing-inputs").display = gpu
        self.query_one("#gpus").display = gpu
        self.query_one("#gpus-label").display = gpu
        fargate = self.capacity == "fargate"
        for widget_id in ("#sizing", "#sizing-head", "#sizing-note"):
            self.query_one(widget_id).display = not fargate or gpu
        # Fargate picks its own hosts: no instance types to ask for (unless a spec names some: the
        # core's error then needs the field to fix it)
        self.query_one("#types-row").display = not fargate or bool(self.state.get("compute.instance_types"))

    def _task_options(self) -> None:
        cat = self.catalog()
        cpu_field = self.query_one("#cpu", ChoiceField)
        mem_field = self.query_one("#memory", ChoiceField)
        cpu, mem = self.state.get("compute.cpu"), self.state.get("compute.memory")
        note = self.query_one("#task-note", Static)
        if self.capacity == "fargate":
            cpus = sorted(cat.fargate_sizes)
            cpu_field.choose(cpu, [(cpu_label(c), c) for c in cpus])
            mems = list(cat.fargate_memory_for(cpu)) if isinstance(cpu, int) else []
            mem_field.choose(mem, [(f"{m} MiB", m) for m in mems])
            note.update("Fargate takes these CPU/memory pairs only")
            return
        itype = self.first_type()
        if itype is None:
            cpu_field.choose(cpu, [])
            mem_field.choose(mem, [])
            note.update("pick an instance type (the table above) to see the task sizes that fit it")
            return
        cpu_field.choose(cpu, [(cpu_label(c), c) for c in instance_cpu_options(itype)])
        mem_field.choose(mem, [(memory_label(m, itype), m) for m in instance_memory_options(itype)])
        note.update(
            f"fits {itype.name}: {itype.cpu_units} CPU units, {itype.registered_memory_mib:,} MiB registered with "
            f"ECS (of {itype.memory_gib * GIB:,} physical)"
        )

    # --- the operator's choices -------------------------------------------------------------------

    @on(RadioSet.Changed, "#accelerator")
    def _accelerator(self, event: RadioSet.Changed) -> None:
        event.stop()
        gpu = event.pressed.id == "acc-gpu"
        cat = self.catalog()
        self.state.set("compute.accelerator", "gpu" if gpu else "none")
        types = self.state.get("compute.instance_types")
        if isinstance(types, list):
            keep = [t for t in types if (itype := cat.instance(str(t))) and (itype.nvidia_gpus > 0) == gpu]
            self.state.set("compute.instance_types", keep or None)
        if gpu:
            if self.capacity == "fargate":
                self.state.set("compute.capacity", "ec2")
                self.app.notify("Fargate has no GPUs: capacity is now ECS on EC2 (or pick Managed Instances)")
            if not self.state.get("compute.gpus_per_task"):
                self.state.set("compute.gpus_per_task", 1)
        else:
            self.state.set("compute.gpus_per_task", None)
        self.load()
        self.changed()

    @on(RadioSet.Changed, "#capacity")
    def _capacity(self, event: RadioSet.Changed) -> None:
        event.stop()
        kind = (event.pressed.id or "cap-ec2").removeprefix("cap-")
        if kind == self.capacity:
            return
        cat = self.catalog()
        self.state.set("compute.capacity", kind)
        if kind == "fargate":
            types = self.state.get("compute.instance_types")
            self.stashed_types = types if isinstance(types, list) else None
            self.state.set("compute.instance_types", None)
            cpu = nearest(self.state.get("compute.cpu"), sorted(cat.fargate_sizes))
            self.state.set("compute.cpu", cpu)
            self.state.set(
                "compute.memory", nearest(self.state.get("compute.memory"), list(cat.fargate_memory_for(cpu)))
            )
        elif not self.state.get("compute.instance_types") and self.stashed_types:
            self.state.set("compute.instance_types", self.stashed_types)
        self.load()
        self.changed()

    def after_choice(self, path: str, value: Any) -> None:
        if path == "compute.cpu" and self.capacity == "fargate" and isinstance(value, int):
            allowed = list(self.catalog().fargate_memory_for(value))
            if allowed and self.state.get("compute.memory") not in allowed:
                self.state.set("compute.memory", nearest(self.state.get("compute.memory"), allowed))
        if path in ("compute.cpu", "compute.memory"):
            self.call_after_refresh(self._task_options)

    def other_input(self, field: TextField) -> None:
        if field.path == "@params":
            self.state.params_billion = field.value
            self._show_sizing()

    def after_input(self, field: TextField) -> None:
        if field.path == "compute.instance_types":
            self._task_options()

    def other_choice(self, field: ChoiceField, value: Any) -> None:
        if field.path == "@precision" and isinstance(value, str):
            self.state.precision = value
            self._show_sizing()

    @on(DataTable.RowSelected, "#sizing")
    def _picked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        name = str(event.row_key.value)
        itype = self.catalog().instance(name)
        if itype is None:
            return
        if self.table_mode == "gpu":
            fit = next(
                (f for f in (self.sizing.fits if self.sizing else ()) if f.instance_type == name), None
            )
            if fit is None:
                why = (
                    next((r.reason for r in self.sizing.rejections if r.instance_type == name), "")
                    if self.sizing
                    else ""
                )
                self.app.notify(f"{name} does not hold this model: {why}", severity="warning")
                return
            gpus, replicas = fit.gpus_per_replica, fit.replicas_per_instance
            self.state.set("compute.gpus_per_task", gpus)
        else:
            replicas = 1
        cpu, mem = task_for(itype, replicas)
        self.state.set("compute.instance_types", [name])
        self.state.set("compute.cpu", cpu)
        self.state.set("compute.memory", mem)
        self.load()
        self.changed()
        self.app.notify(f"{name}: {replicas} task(s) per instance of {cpu} CPU units and {mem} MiB")

    # --- derived views ----------------------------------------------------------------------------

    def refresh_more(self, analysis: Analysis) -> None:
        self._show_mode()
        self._show_sizing()

    def throughput(self) -> Throughput | None:
        if not self._throughput_read:
            from mlfargate.generate.sources import repo_root

            self._throughput = measured_throughput(benchmark_results([Path.cwd(), repo_root()]), repo_root())
            self._throughput_read = True
        return self._throughput

    def _show_sizing(self) -> None:
        table = self.query_one("#sizing", DataTable)
        head = self.query_one("#sizing-head", Static)
        note = self.query_one("#sizing-note", Static)
        region = self.state.get("aws.region")
        book = self.state.book(region) if isinstance(region, str) else "pick a region in step 1"
        if isinstance(book, str):
            self._table(table, "none", [], [])
            head.update(book)
            note.update("")
            return
        if not self.gpu:
            self._cpu_table(table, book)
            head.update(f"CPU instance types for ECS on EC2 / Managed Instances ({book.region})")
            note.update("Enter on a row picks the type and the largest task that fits it.")
            return
        from mlfargate.cost import sizing

        tp = self.throughput()
        try:
            params = float(self.state.params_billion)
            self.sizing = sizing.size(params, self.state.precision, book, throughput=tp)
        except (ValueError, MlfargateError) as exc:
            self.sizing = None
            self._table(table, "none", [], [])
            head.update(
                f"model size: {exc}" if isinstance(exc, MlfargateError) else "model size: type a number"
            )
            return
        req = self.sizing.requirement
        head.update(
            f"{req.params_billion:g}B at {req.precision}: weights {req.weights_gib:.1f} GiB, needs "
            f"{req.required_gib:.1f} GiB of GPU memory per replica · Enter picks a type"
        )
        self._gpu_table(table, self.sizing)
        source = (
            tp.source if tp else "no serve benchmark (benchmarks/results/serve-*.json): $/1M req needs one"
        )
        extra = [a for a in self.sizing.assumptions[1:] if a.startswith("The measurement ran on")]
        note.update(f"$/1M req: {source}" + (f". {extra[0]}" if extra else ""))

    def _table(
        self, table: DataTable[Text], mode: str, columns: list[str], rows: list[tuple[str, list[Text]]]
    ) -> None:
        cursor = table.cursor_row
        if mode != self.table_mode:
            table.clear(columns=True)
            for c in columns:
                table.add_column(c, key=c)
            self.table_mode = mode
        else:
            table.clear()
        chosen = self.state.get("compute.instance_types")
        picked = set(chosen) if isinstance(chosen, list) else set()
        for key, cells in rows:
            if key in picked:  # the spec's types are marked; the cursor stays where the operator left it
                cells = [Text.assemble(("▸ ", "bold green"), cells[0]), *cells[1:]]
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)

    def _gpu_table(self, table: DataTable[Text], result: Sizing) -> None:
        cols = ["type", "GPU", "fits", "GPU/rep", "$/hour", "Spot $/h", "$/1M req", "why not"]
        rows: list[tuple[str, list[Text]]] = []
        for f in result.fits:
            per_m = f"{f.usd_per_million_requests:.3f}" if f.usd_per_million_requests is not None else "–"
            rows.append(
                (
                    f.instance_type,
                    [
                        Text(f.instance_type),
                        Text(f"{f.gpus}× {f.gpu_model.removeprefix('NVIDIA ')} {f.gpu_memory_gib} GB"),
                        Text("yes", style="green"),
                        Text(str(f.gpus_per_replica), justify="right"),
                        Text(f"{f.on_demand_hour:.3f}", justify="right"),
                        Text(f"{f.spot_hour:.3f}" + ("*" if f.spot_is_estimate else ""), justify="right"),
                        Text(per_m, justify="right"),
                        Text(""),
                    ],
                )
            )
        cat = self.catalog()
        for r in result.rejections:
            if r.code == "no_gpu":
                continue
            itype = cat.instance(r.instance_type)
            acc = itype.accelerator if itype else None
            gpu = f"{acc.count}× {acc.model.removeprefix('NVIDIA ')} {acc.memory_gib} GB" if acc else ""
            rows.append(
                (
                    r.instance_type,
                    [Text(r.instance_type, style="dim"), Text(gpu, style="dim"), Text("no", style="red")]
                    + [Text("") for _ in range(4)]
                    + [Text(r.reason, style="dim")],
                )
            )
        self._table(table, "gpu", cols, rows)

    def _cpu_table(self, table: DataTable[Text], book: Any) -> None:
        cat = self.catalog()
        arch = self.state.get("compute.architecture") or "x86_64"
        rows: list[tuple[str, list[Text]]] = []
        for name, itype in sorted(cat.instance_types.items(), key=lambda kv: kv[0]):
            if itype.accelerator is not None or not book.has(f"ec2.{name}.on_demand"):
                continue
            style = "" if itype.arch == arch else "dim"
            rows.append(
                (
                    name,
                    [
                        Text(name, style=style),
                        Text(str(itype.vcpu), justify="right", style=style),
                        Text(f"{itype.registered_memory_mib:,}", justify="right", style=style),
                        Text(itype.arch, style=style),
                        Text(f"{book.on_demand(name).usd:.4f}", justify="right", style=style),
                    ],
                )
            )
        self._table(table, "cpu", ["type", "vCPU", "MiB registered", "arch", "$/hour"], rows)
