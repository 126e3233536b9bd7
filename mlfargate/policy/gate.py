"""The policy gate: checkov run in-process on a workspace directory and on a saved plan's JSON.

checkov is driven through its Python API (``checkov.terraform.runner.Runner`` and
``checkov.terraform.plan_runner.Runner``), never as a CLI subprocess: importing checkov and loading its
check registries costs seconds, scanning a workspace costs a fraction of a second. The import happens
on the first scan (``mlfargate --help`` never pays it) and stays loaded for the life of the process, so
every later scan is warm. A fresh checkov ``Runner`` is built per scan because a runner caches the
definitions of the first directory it parsed.

Severities: checkov only reports a severity when it is connected to the Prisma Cloud platform (an API
key); offline every record's ``severity`` is ``None``. We never invent one silently: a finding's
severity comes from checkov when checkov has one (``severity_source="checkov"``), else from
:data:`TRIAGE`, a small map of the checks this project's modules are written against, labelled as our
own triage (``severity_source="mlfargate"``), else it is ``UNKNOWN`` (``severity_source="none"``).
Every unwaived failure blocks the gate whatever its severity; severity only orders the report.

Modules: local module calls (``./``, ``../``, absolute paths) are followed as checkov follows them.
Remote ones (git, registry, ...) are never downloaded by the gate; once ``terraform init`` (or
``terraform get``, or ``mlfargate plan``) has installed them, they are read from the workspace's
``.terraform/modules`` (``modules.json`` maps each call to its directory), so their resources are
checked with the caller's arguments and their inline waivers apply. A module call the gate cannot read
(a missing local directory, a remote module not installed) is listed in ``unchecked`` and blocks: an
unread module is not a passed one. So is a ``.tf.json`` file: checkov's Terraform runner skips them.

Waivers are checkov's inline comments, ``#checkov:skip=CKV_AWS_51:reason``, inside the resource block.
A waiver must give a reason: a skip without one does not waive anything, the finding stays failed and
says why (aws-facts.md: "a waiver is an inline skip with a real reason, never a blanket skip").
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from mlfargate.policy import checkov_loading, parse_cache, result_cache
from mlfargate.policy.checkov_patches import (
    INSTALLED_CALLS,
    LoggingState,
    install_initialized_module_loader,
    install_parse_cache,
    is_local_source,
    parsed_read_only,
    reuse_expression_evaluator,
    reuse_jsonpath_parser,
    save_evaluations,
)
from mlfargate.policy.report import (
    NO_REASON,
    SEVERITIES,
    TRIAGE,
    Finding,
    PolicyError,
    PolicyReport,
    ScanKind,
    Waiver,
)
from mlfargate.terraform.state import installed_modules


class _Checkov:
    """checkov's runner classes, imported once per process (the import is the slow part). A directory
    scan needs only the Terraform runner, and only the checks for the workspace's resource types
    (:mod:`mlfargate.policy.checkov_loading`); the plan runner and the runner registry (plan enrichment,
    ~25% more import time) and every other check are imported on the first plan scan, or by
    :func:`warm_up`."""

    _lock = threading.Lock()
    _loaded: _Checkov | None = None

    def __init__(self, types: set[str] | None = None) -> None:
        saved = LoggingState.capture()
        self.loader = checkov_loading.Loader()
        self.loader.import_runner(types)
        from checkov.common.output.report import Report
        from checkov.runner_filter import RunnerFilter
        from checkov.terraform.runner import Runner as TfRunner

        saved.restore()
        install_parse_cache()
        reuse_expression_evaluator()
        reuse_jsonpath_parser()
        install_initialized_module_loader()
        self.report_cls = Report
        self.filter_cls = RunnerFilter
        self.tf_runner_cls = TfRunner
        self._plan: tuple[Any, Any] | None = None
        # What the import made (modules, classes, check registries) lives as long as the process: move it
        # out of the collector's sight. Otherwise every later full collection walks it again, the last
        # one at interpreter exit: ~0.6 s of a cold `mlfargate check` (CPU 1.9 s -> 1.2 s).
        gc.freeze()

    def plan_classes(self) -> tuple[Any, Any]:
        """(plan runner, runner registry), imported on first use."""
        with self._lock:
            if self._plan is None:
                saved = LoggingState.capture()
                from checkov.common.runners.runner_registry import RunnerRegistry
                from checkov.terraform.plan_runner import Runner as PlanRunner

                self.loader.ensure_all()
                saved.restore()
                self._plan = (PlanRunner, RunnerRegistry)
            return self._plan

    @classmethod
    def get(cls, types: set[str] | None = None) -> _Checkov:
        """The process's checkov; ``types`` (the workspace's resource and data types) lets the first
        import skip the checks that cannot apply; later calls import what new types need."""
        with cls._lock:
            if cls._loaded is None:
                cls._loaded = cls(types)
                return cls._loaded
        if types is not None:
            cls._loaded.loader.ensure(types)
        return cls._loaded

    def runner_filter(self, framework: str, plan_root: Path | None = None) -> Any:
        return self.filter_cls(
            framework=[framework],
            download_external_modules=False,
            show_progress_bar=False,
            repo_root_for_plan_enrichment=[str(plan_root)] if plan_root else None,
        )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while checkov is imported and a scan runs. Importing checkov
    creates ~2,000 modules' worth of long-lived objects, and every few thousand allocations the collector
    walks all of them again: ~25% of a cold check's CPU (environments/prod: 1.64 s -> 1.27 s), for no
    memory back (peak RSS 141 MB either way: reference counting frees the rest). Restored afterwards, so
    a long-lived process (the TUI) collects as usual between scans; the import's own objects are frozen
    (:class:`_Checkov`), never collected again."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def is_loaded() -> bool:
    """Whether checkov is already imported in this process (the next scan is warm)."""
    return _Checkov._loaded is not None


def warm_up() -> None:
    """Import checkov now, plan scanning included (e.g. while Terraform plans), so the gate that
    follows is warm."""
    with _collector_paused():
        _Checkov.get().plan_classes()


def _module_calls(file: Path) -> list[tuple[str, str, str]]:
    """(name, source, version) of each module call in a ``.tf`` or ``.tf.json`` file; the version
    as written, ``latest`` without one (what checkov's loader is given)."""
    import json

    calls: list[tuple[str, str, str]] = []
    if file.name.endswith(".tf.json"):
        try:
            blocks = json.loads(file.read_bytes()).get("module", {})
        except (OSError, ValueError, AttributeError):
            return []
        for block in blocks if isinstance(blocks, list) else [blocks]:
            for name, body in block.items() if isinstance(block, dict) else []:
                source = body.get("source") if isinstance(body, dict) else None
                if isinstance(source, str):
                    calls.append((name, source, str(body.get("version") or "latest")))
        return calls
    for block in parsed_read_only(file).get("module", []):
        for name, body in block.items():
            source = (body.get("source") or [None])[0] if isinstance(body, dict) else None
            if isinstance(source, str):
                calls.append((name, source, str((body.get("version") or ["latest"])[0])))
    return calls


def _module_map(root: Path) -> list[str]:
    """Walk the module calls from the workspace down through every module the gate reads, then every
    other directory under the workspace (checkov scans those too); record where Terraform installed
    each remote call (for the loader, in :data:`INSTALLED_CALLS`) and return what the gate cannot
    read, one line each: a local source with no ``.tf`` files, a remote call not installed, and
    ``.tf.json`` files (checkov's Terraform runner skips them). checkov skips all of these silently,
    so without this such a workspace would pass with nothing scanned."""
    installed = installed_modules(root)
    resolved: dict[tuple[str, str, str], str] = {}
    unchecked: list[str] = []
    seen: set[Path] = set()

    def walk(start: Path, start_key: str | None) -> None:
        # Call paths (``parent.child``) exist only for the workspace's module tree; a directory that
        # the tree does not reach has none (None), so Terraform never installs its remote calls.
        pending: list[tuple[Path, str | None]] = [(start, start_key)]
        while pending:
            directory, prefix = pending.pop()
            if directory in seen:
                continue
            seen.add(directory)
            for file in sorted([*directory.glob("*.tf"), *directory.glob("*.tf.json")]):
                where_file = _display_path(str(file), root)
                if file.name.endswith(".tf.json"):
                    unchecked.append(
                        f"{where_file}: checkov does not read .tf.json files, so it is unchecked; gate the "
                        "HCL workspace of the same spec (`mlfargate generate --format hcl`: the same module "
                        "calls)"
                    )
                for name, source, version in _module_calls(file):
                    where = f"{where_file}: module {name!r} (source {source})"
                    key = None if prefix is None else (f"{prefix}.{name}" if prefix else name)
                    if is_local_source(source):
                        target = (directory / source).resolve()
                        if not target.is_dir() or not any(target.glob("*.tf")):
                            unchecked.append(f"{where}: no .tf files there, so it cannot be checked")
                            continue
                    else:
                        found = installed.get(key) if key is not None else None
                        if found is None:
                            unchecked.append(
                                f"{where}: remote module not installed, so it cannot be checked; run "
                                "`terraform get` in the workspace (or `mlfargate plan`, which runs init) "
                                "and check again"
                                if key is not None
                                else f"{where}: remote module outside the workspace's module tree, so "
                                "Terraform never installs it and it cannot be checked"
                            )
                            continue
                        # Calls of one source and version from one module are one content (Terraform
                        # resolves a source and version once); checkov caches by source+version too.
                        resolved.setdefault((os.path.realpath(directory), source, version), str(found))
                        target = found
                    pending.append((target, key))

    walk(root, "")
    for current, dirs, _ in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        walk(Path(current).resolve(), None)
    INSTALLED_CALLS[os.path.realpath(root)] = resolved
    return unchecked


def _block_types(root: Path) -> set[str]:
    """The resource and data types named in the files a scan of ``root`` reads."""
    texts = []
    for file in result_cache.inputs(root):
        if file.name.endswith(".tf"):
            try:
                texts.append(file.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
    return checkov_loading.block_types(texts)


def scan_directory(path: Path) -> PolicyReport:
    """Run every checkov Terraform check on a workspace directory, following local module calls and
    remote ones ``terraform init`` installed (nothing is downloaded); see the module docs."""
    import time

    root = Path(path).resolve()
    if not root.is_dir():
        raise PolicyError(f"{path}: not a directory; give the Terraform workspace directory to check")
    if not any(root.glob("*.tf")) and not any(root.glob("*.tf.json")):
        raise PolicyError(f"{path}: no .tf files; give the Terraform workspace directory to check")
    started = time.perf_counter()
    cache_key = result_cache.key(root)
    report = result_cache.load(cache_key, str(path))
    if report is None:
        with _collector_paused():
            ck = _Checkov.get(_block_types(root))
            unchecked = _module_map(root)
            runner = ck.tf_runner_cls()
            result = runner.run(root_folder=str(root), runner_filter=ck.runner_filter("terraform"))
            if ck.loader.ensure(checkov_loading.definition_types(runner.definitions)):
                # A type the headers did not show (see checkov_loading): its checks are loaded now.
                runner = ck.tf_runner_cls()
                result = runner.run(root_folder=str(root), runner_filter=ck.runner_filter("terraform"))
            report = _convert(ck, result, root, str(path), "directory")
        report.unchecked = unchecked
        result_cache.store(cache_key, report)
        parse_cache.prune()
        save_evaluations()
    report.seconds = time.perf_counter() - started
    return report


def scan_plan(plan_json_path: Path, workspace: Path | None = None) -> PolicyReport:
    """Run checkov's Terraform-plan checks on ``terraform show -json`` output.

    ``workspace`` (default: the plan file's directory) is the configuration the plan came from: its
    ``.tf`` files give findings their file:line and their inline waivers, as ``checkov
    --repo-root-for-plan-enrichment`` does."""
    import json
    import time

    plan = Path(plan_json_path).resolve()
    if not plan.is_file():
        raise PolicyError(f"{plan_json_path}: no such plan JSON; run `mlfargate plan` first")
    try:
        json.loads(plan.read_text())
    except (OSError, ValueError) as exc:
        raise PolicyError(
            f"{plan_json_path}: not a readable `terraform show -json` document ({exc})"
        ) from exc
    root = Path(workspace).resolve() if workspace else plan.parent
    started = time.perf_counter()
    cache_key = result_cache.key(root, plan)
    cached = result_cache.load(cache_key, str(plan_json_path))
    if cached is not None:
        cached.seconds = time.perf_counter() - started
        return cached
    with _collector_paused():
        ck = _Checkov.get()
        _module_map(root)  # the enrichment below reads the configuration's modules (waivers, file:line)
        plan_runner_cls, registry_cls = ck.plan_classes()
        runner = plan_runner_cls()
        result = runner.run(
            root_folder=None, files=[str(plan)], runner_filter=ck.runner_filter("terraform_plan", root)
        )
        reports = result if isinstance(result, list) else [result]
        enriched = registry_cls.get_enriched_resources(
            repo_roots=[str(root)], download_external_modules=False
        )
        for sub in reports:
            ck.report_cls("terraform_plan").enrich_plan_report(sub, enriched)
            ck.report_cls("terraform_plan").handle_skipped_checks(sub, enriched)
        report = _convert(ck, reports, root, str(plan_json_path), "plan")
    result_cache.store(cache_key, report)
    report.seconds = time.perf_counter() - started
    return report


def _convert(ck: _Checkov, result: Any, root: Path, target: str, kind: ScanKind) -> PolicyReport:
    reports = result if isinstance(result, list) else [result]
    out = PolicyReport(target=target, kind=kind)
    seen: set[tuple[str, str, str]] = set()
    for sub in reports:
        out.passed += len(sub.passed_checks)
        out.parsing_errors.extend(_display_path(p, root) for p in sub.parsing_errors)
        for record in sub.skipped_checks:
            reason = str(record.check_result.get("suppress_comment") or "").strip()
            if not reason or reason == NO_REASON:
                out.failed.append(_finding(record, root, note="waiver has no reason: write ID:reason"))
                continue
            line = record.file_line_range[0] if record.file_line_range else 0
            out.waived.append(
                Waiver(
                    check_id=record.check_id,
                    check_name=record.check_name,
                    resource=record.resource,
                    file=_record_path(record, root),
                    line=int(line),
                    reason=reason,
                )
            )
        for record in sub.failed_checks:
            key = (record.check_id, record.resource, _record_path(record, root))
            if key in seen:
                continue
            seen.add(key)
            out.failed.append(_finding(record, root))
    out.failed.sort(key=lambda f: (SEVERITIES.index(f.severity), f.file, f.line, f.check_id))
    out.waived.sort(key=lambda w: (w.file, w.line, w.check_id))
    return out


def _finding(record: Any, root: Path, note: str | None = None) -> Finding:
    severity, source = _severity(record)
    lines = record.file_line_range or [0, 0]
    return Finding(
        check_id=record.check_id,
        check_name=record.check_name,
        severity=severity,
        severity_source=source,
        resource=record.resource,
        file=_record_path(record, root),
        line=int(lines[0]),
        end_line=int(lines[-1]),
        guideline=record.guideline or None,
        note=note,
    )


def _severity(record: Any) -> tuple[str, Literal["checkov", "mlfargate", "none"]]:
    sev = getattr(record, "severity", None)
    name = getattr(sev, "name", None) if sev is not None else None
    if isinstance(name, str) and name.upper() in SEVERITIES:
        return name.upper(), "checkov"
    if record.check_id in TRIAGE:
        return TRIAGE[record.check_id], "mlfargate"
    return "UNKNOWN", "none"


def _record_path(record: Any, root: Path) -> str:
    rel = str(record.file_path or "")
    if rel and not rel.startswith("/"):
        # Plan findings enriched from the configuration: relative to the workspace, with .tf lines.
        return _display_path(str(root / rel), root)
    abs_path = getattr(record, "file_abs_path", None)
    if abs_path and os.path.isabs(abs_path):
        return _display_path(abs_path, root)
    return _display_path(str(root / rel.lstrip("/")), root)


def _display_path(path: str, root: Path) -> str:
    """A path relative to the scanned workspace (``main.tf``, ``../../modules/x/main.tf``)."""
    try:
        return os.path.relpath(os.path.realpath(path), root)
    except ValueError:
        return path
