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

import logging
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlfargate.errors import MlfargateError
from mlfargate.runner import installed_modules

#: Severity order used to group a report (checkov's own scale, plus UNKNOWN for "nobody said").
SEVERITIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "UNKNOWN")

#: mlfargate's own triage of the checks the modules are written against (list in
#: /work/shared/aws-facts.md, "Policy checks (checkov) that matter here"). Not a vendor severity:
#: HIGH = exposes data or the service to the network or to tampering; MEDIUM = weakens encryption,
#: audit or recovery; LOW = hygiene / observability. Reported with ``severity_source="mlfargate"``.
TRIAGE: dict[str, str] = {
    # ALB
    "CKV_AWS_2": "HIGH",  # listener is not HTTPS: traffic in clear text
    "CKV_AWS_103": "HIGH",  # TLS below 1.2
    "CKV_AWS_91": "MEDIUM",  # no access logs
    "CKV_AWS_131": "MEDIUM",  # invalid headers not dropped (request smuggling)
    "CKV_AWS_150": "LOW",  # no deletion protection
    "CKV2_AWS_20": "MEDIUM",  # HTTP not redirected to HTTPS
    "CKV2_AWS_28": "MEDIUM",  # no WAF
    # ECR
    "CKV_AWS_51": "HIGH",  # mutable tags: an image can be replaced under a deployed tag
    "CKV_AWS_163": "MEDIUM",  # no scan on push
    "CKV_AWS_136": "LOW",  # AES256 instead of KMS
    # ECS
    "CKV_AWS_336": "MEDIUM",  # writable root filesystem
    "CKV_AWS_249": "MEDIUM",  # execution role == task role
    "CKV_AWS_65": "LOW",  # no Container Insights
    "CKV_AWS_333": "HIGH",  # service gets a public IP
    # CloudWatch Logs
    "CKV_AWS_158": "LOW",  # log group not KMS-encrypted
    "CKV_AWS_338": "LOW",  # retention < 1 year
    # VPC
    "CKV2_AWS_11": "MEDIUM",  # no flow logs
    "CKV2_AWS_12": "MEDIUM",  # default security group not closed
    # Launch templates (GPU instances)
    "CKV_AWS_79": "HIGH",  # IMDSv1 allowed: credential theft via SSRF
    "CKV_AWS_341": "MEDIUM",  # metadata hop limit > 1: containers reach instance credentials
}

#: What checkov writes as the reason of a skip comment that has none.
_NO_REASON = "No comment provided"

ScanKind = Literal["directory", "plan"]


class PolicyError(MlfargateError):
    """The gate could not run: the directory or plan file is missing or unreadable."""


@dataclass(frozen=True)
class Finding:
    """One failed check on one resource."""

    check_id: str
    check_name: str
    severity: str
    severity_source: Literal["checkov", "mlfargate", "none"]
    resource: str
    file: str
    line: int
    end_line: int
    guideline: str | None = None
    note: str | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Waiver:
    """A failed check waived by an inline ``#checkov:skip=ID:reason`` comment."""

    check_id: str
    check_name: str
    resource: str
    file: str
    line: int
    reason: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class PolicyReport:
    """The gate's verdict on one target (a workspace directory or a plan JSON file)."""

    target: str
    kind: ScanKind
    failed: list[Finding] = field(default_factory=list)
    waived: list[Waiver] = field(default_factory=list)
    passed: int = 0
    parsing_errors: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # module calls the gate could not read
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing blocks: no unwaived failure, every file parsed and every module call read
        (an unparsed file or an unread module is unchecked code, so it blocks too)."""
        return not self.failed and not self.unread

    @property
    def unread(self) -> int:
        """Files checkov could not parse plus module calls and files the gate could not read."""
        return len(self.parsing_errors) + len(self.unchecked)

    def by_severity(self) -> dict[str, list[Finding]]:
        """Failures grouped by severity, most severe first; only non-empty groups."""
        groups: dict[str, list[Finding]] = {}
        for severity in SEVERITIES:
            items = [f for f in self.failed if f.severity == severity]
            if items:
                groups[severity] = sorted(items, key=lambda f: (f.file, f.line, f.check_id, f.resource))
        return groups

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "ok": self.ok,
            "passed": self.passed,
            "failed": [asdict(f) | {"location": f.location} for f in self.failed],
            "waived": [asdict(w) | {"location": w.location} for w in self.waived],
            "parsing_errors": list(self.parsing_errors),
            "unchecked": list(self.unchecked),
            "counts": {sev: len(items) for sev, items in self.by_severity().items()},
            "seconds": round(self.seconds, 4),
        }


class _Checkov:
    """checkov's runner classes, imported once per process (the import is the slow part)."""

    _lock = threading.Lock()
    _loaded: _Checkov | None = None

    def __init__(self) -> None:
        saved = _LoggingState.capture()
        from checkov.common.output.report import Report
        from checkov.common.runners.runner_registry import RunnerRegistry
        from checkov.runner_filter import RunnerFilter
        from checkov.terraform.plan_runner import Runner as PlanRunner
        from checkov.terraform.runner import Runner as TfRunner

        saved.restore()
        _install_parse_cache()
        _reuse_expression_evaluator()
        _install_initialized_module_loader()
        self.report_cls = Report
        self.registry_cls = RunnerRegistry
        self.filter_cls = RunnerFilter
        self.plan_runner_cls = PlanRunner
        self.tf_runner_cls = TfRunner

    @classmethod
    def get(cls) -> _Checkov:
        with cls._lock:
            if cls._loaded is None:
                cls._loaded = cls()
            return cls._loaded

    def runner_filter(self, framework: str, plan_root: Path | None = None) -> Any:
        return self.filter_cls(
            framework=[framework],
            download_external_modules=False,
            show_progress_bar=False,
            repo_root_for_plan_enrichment=[str(plan_root)] if plan_root else None,
        )


#: Set to 1 to keep checkov's own logging setup (debugging checkov itself).
CHECKOV_LOG_ENV = "MLFARGATE_CHECKOV_LOG"


@dataclass
class _LoggingState:
    """What importing checkov changes in the process's logging (checkov.logging_init, written for its
    CLI): the root logger set to DEBUG; the app's first root handler given checkov's level and format
    (or, with none, a stderr handler added); a handler keeping every record in an in-memory StringIO for
    upload to its platform; urllib3's loggers set to ERROR and cut off from the root. In a long-lived
    process (the TUI, a warm gate) that is memory that only grows, ~9% of a warm scan spent formatting
    debug records nobody reads, the app's own log settings overridden, and checkov's warnings
    (``logging.warning`` on the root logger: "Failed to find context for ...") in the operator's
    terminal. :meth:`restore` puts all of it back and drops checkov's root-logger records below ERROR.
    With ``MLFARGATE_CHECKOV_LOG=1`` checkov's logging is left as checkov made it (then checkov's own
    ``LOG_LEVEL`` sets its level; ``LOG_LEVEL`` alone is too common in containers to mean this)."""

    root_level: int
    handlers: list[tuple[logging.Handler, int, logging.Formatter | None]]
    others: dict[str, tuple[int, bool]]  # logger name -> (level, propagate)

    _OTHERS = ("urllib3", "urllib3.connectionpool")

    @classmethod
    def capture(cls) -> _LoggingState:
        root = logging.getLogger()
        return cls(
            root_level=root.level,
            handlers=[(h, h.level, h.formatter) for h in root.handlers],
            others={n: (logging.getLogger(n).level, logging.getLogger(n).propagate) for n in cls._OTHERS},
        )

    def restore(self) -> None:
        if os.environ.get(CHECKOV_LOG_ENV) == "1":
            return
        root = logging.getLogger()
        kept = [h for h, _, _ in self.handlers]
        for handler in list(root.handlers):
            if handler not in kept:
                root.removeHandler(handler)
        for handler, level, formatter in self.handlers:
            handler.setLevel(level)
            handler.setFormatter(formatter)
        root.setLevel(self.root_level)
        for name, (level, propagate) in self.others.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).propagate = propagate
        import checkov

        package = os.path.dirname(checkov.__file__ or "") + os.sep

        def not_checkov_chatter(record: logging.LogRecord) -> bool:
            return record.levelno >= logging.ERROR or not record.pathname.startswith(package)

        root.addFilter(not_checkov_chatter)
        logging.getLogger("checkov").setLevel(logging.ERROR)


#: Parsed HCL per file, keyed by (real path, SHA-256 of the bytes, clean_definitions). checkov re-parses
#: every file on every scan with a slow lark grammar; modules rarely change between two gate runs, so a
#: warm scan reuses the parse of every file whose bytes are unchanged. Callers get deep copies (checkov
#: mutates what it loads); a file that fails to parse is never cached, so its error is reported each time.
_PARSE_CACHE: dict[tuple[str, str, bool], Any] = {}


def _parse_key(file: Any, clean_definitions: bool = True) -> tuple[str, str, bool] | None:
    """The parse cache's key for a file: its real path, the SHA-256 of its bytes; None if unreadable."""
    import hashlib

    path = os.fspath(file)
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
    return (os.path.realpath(path), digest, clean_definitions)


def _parsed_read_only(file: Path) -> dict[str, Any]:
    """A file's parsed HCL from the parse cache, not copied: for callers that only read it."""
    from checkov.terraform import tf_parser

    key = _parse_key(file)
    if key is None:
        return {}
    if key not in _PARSE_CACHE:
        tf_parser.load_or_die_quietly(file, {})  # type: ignore[attr-defined]  # fills the cache
    parsed = _PARSE_CACHE.get(key)
    return parsed if isinstance(parsed, dict) else {}


def _install_parse_cache() -> None:
    import copy

    from checkov.terraform import parser_utils, tf_parser
    from checkov.terraform.module_loading import module_finder

    original = parser_utils.load_or_die_quietly

    def load_cached(file: Any, parsing_errors: dict[str, Exception], clean_definitions: bool = True) -> Any:
        key = _parse_key(file, clean_definitions)
        if key is None:
            return original(file, parsing_errors, clean_definitions)
        if key not in _PARSE_CACHE:
            parsed = original(file, parsing_errors, clean_definitions)
            if parsed is None:
                return None
            _PARSE_CACHE[key] = parsed
        return copy.deepcopy(_PARSE_CACHE[key])

    tf_parser.load_or_die_quietly = load_cached  # type: ignore[attr-defined]
    module_finder.load_or_die_quietly = load_cached  # type: ignore[attr-defined]


def _reuse_expression_evaluator() -> None:
    """Variable rendering is most of a warm scan: checkov builds a new asteval ``Interpreter`` for each
    expression and evaluates the same expression text many times (environments/prod: 6,628 evaluations
    of 2,336 distinct strings). Both are pure here: ``eval`` clears the interpreter's errors first and the
    expressions are Terraform values, never assignments. So: one interpreter per thread, and results
    memoised by expression text (bounded; deep copies out, since callers may mutate lists and dicts;
    failures re-raised as a fresh error with the same message; ``timestamp()`` never cached)."""
    import copy
    from collections import OrderedDict

    from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform, safe_eval_functions

    make = safe_eval_functions.get_asteval
    local = threading.local()

    def shared() -> Any:
        interpreter = getattr(local, "interpreter", None)
        if interpreter is None:
            interpreter = local.interpreter = make()
        return interpreter

    safe_eval_functions.get_asteval = shared

    evaluate = safe_eval_functions.evaluate
    memo: OrderedDict[str, tuple[bool, Any]] = OrderedDict()
    lock = threading.Lock()

    def evaluate_memoised(input_str: str) -> Any:
        if not isinstance(input_str, str) or "timestamp(" in input_str:
            return evaluate(input_str)
        with lock:
            hit = memo.get(input_str)
            if hit is not None:
                memo.move_to_end(input_str)
        if hit is None:
            try:
                value = evaluate(input_str)
            except Exception as exc:
                hit = (False, str(exc))
            else:
                hit = (True, value)
            with lock:
                memo[input_str] = hit
                if len(memo) > _EVAL_MEMO_MAX:
                    memo.popitem(last=False)
        ok, value = hit
        if not ok:
            raise ValueError(value)
        return copy.deepcopy(value)

    evaluate_terraform.evaluate = evaluate_memoised  # type: ignore[attr-defined]


#: Distinct expression strings remembered across scans in one process (a generated workspace has ~2,500).
_EVAL_MEMO_MAX = 50_000


def is_loaded() -> bool:
    """Whether checkov is already imported in this process (the next scan is warm)."""
    return _Checkov._loaded is not None


def warm_up() -> None:
    """Import checkov now (e.g. while Terraform plans), so the gate that follows is warm."""
    _Checkov.get()


def _is_local_source(source: str) -> bool:
    return source.startswith(("./", "../", "/"))


#: Per workspace (real path) being scanned: (real path of the calling module's directory, source and
#: version as written, "latest" without one) -> the directory Terraform installed that call into.
#: Filled by :func:`_module_map` before each scan, read by the module loader checkov calls during it.
_INSTALLED_CALLS: dict[str, dict[tuple[str, str, str], str]] = {}


def _install_initialized_module_loader() -> None:
    """Teach checkov's module registry to read remote modules from ``.terraform/modules`` (see the module
    docs). A non-external loader, so it runs with downloads off; it answers only for the remote calls
    :func:`_module_map` resolved for the workspace being scanned (the registry's ``root_dir``)."""
    from checkov.terraform.module_loading.content import ModuleContent
    from checkov.terraform.module_loading.loader import ModuleLoader
    from checkov.terraform.module_loading.module_params import ModuleParams

    class InitializedModuleLoader(ModuleLoader):
        def __init__(self) -> None:
            super().__init__()  # registers itself
            self.is_external = False

        def discover(self, module_params: ModuleParams) -> None:
            return None

        def _installed(self, module_params: ModuleParams) -> str | None:
            calls = _INSTALLED_CALLS.get(os.path.realpath(module_params.root_dir or "."), {})
            key = (
                os.path.realpath(module_params.current_dir),
                module_params.module_source,
                module_params.version or "latest",
            )
            return calls.get(key)

        def _is_matching_loader(self, module_params: ModuleParams) -> bool:
            return (
                not _is_local_source(module_params.module_source)
                and self._installed(module_params) is not None
            )

        def _find_module_path(self, module_params: ModuleParams) -> str:
            return ""  # always resolve through _load_module

        def _load_module(self, module_params: ModuleParams) -> ModuleContent:
            return ModuleContent(self._installed(module_params))

    InitializedModuleLoader()


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
    for block in _parsed_read_only(file).get("module", []):
        for name, body in block.items():
            source = (body.get("source") or [None])[0] if isinstance(body, dict) else None
            if isinstance(source, str):
                calls.append((name, source, str((body.get("version") or ["latest"])[0])))
    return calls


def _module_map(root: Path) -> list[str]:
    """Walk the module calls from the workspace down through every module the gate reads, then every
    other directory under the workspace (checkov scans those too); record where Terraform installed
    each remote call (for the loader, in :data:`_INSTALLED_CALLS`) and return what the gate cannot
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
                    if _is_local_source(source):
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
    _INSTALLED_CALLS[os.path.realpath(root)] = resolved
    return unchecked


def scan_directory(path: Path) -> PolicyReport:
    """Run every checkov Terraform check on a workspace directory, following local module calls and
    remote ones ``terraform init`` installed (nothing is downloaded); see the module docs."""
    import time

    root = Path(path).resolve()
    if not root.is_dir():
        raise PolicyError(f"{path}: not a directory; give the Terraform workspace directory to check")
    if not any(root.glob("*.tf")) and not any(root.glob("*.tf.json")):
        raise PolicyError(f"{path}: no .tf files; give the Terraform workspace directory to check")
    ck = _Checkov.get()
    started = time.perf_counter()
    unchecked = _module_map(root)
    runner = ck.tf_runner_cls()
    result = runner.run(root_folder=str(root), runner_filter=ck.runner_filter("terraform"))
    report = _convert(ck, result, root, str(path), "directory")
    report.unchecked = unchecked
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
    ck = _Checkov.get()
    started = time.perf_counter()
    _module_map(root)  # the enrichment below reads the configuration's modules (waivers, file:line)
    runner = ck.plan_runner_cls()
    result = runner.run(
        root_folder=None, files=[str(plan)], runner_filter=ck.runner_filter("terraform_plan", root)
    )
    reports = result if isinstance(result, list) else [result]
    enriched = ck.registry_cls.get_enriched_resources(repo_roots=[str(root)], download_external_modules=False)
    for sub in reports:
        ck.report_cls("terraform_plan").enrich_plan_report(sub, enriched)
        ck.report_cls("terraform_plan").handle_skipped_checks(sub, enriched)
    report = _convert(ck, reports, root, str(plan_json_path), "plan")
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
            if not reason or reason == _NO_REASON:
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
