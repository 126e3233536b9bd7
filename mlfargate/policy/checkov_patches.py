"""What the gate patches into checkov, and why each patch is safe.

* Logging (:class:`LoggingState`): importing checkov rewires the process's logging; the gate puts it back.
* Parse cache (:func:`install_parse_cache`): parsed HCL of unchanged files is reused between scans.
* Expression evaluation (:func:`reuse_expression_evaluator`): one asteval interpreter per thread and
  results memoised by expression text.
* Installed remote modules (:func:`install_initialized_module_loader`): remote module calls are read
  from where ``terraform init`` installed them (:data:`INSTALLED_CALLS`, filled by the gate).

These touch checkov internals (``tf_parser.load_or_die_quietly``, ``safe_eval_functions.get_asteval``,
``evaluate_terraform.evaluate``, the module loader registry): tests/policy/test_policy_matches_cli.py
proves the patched gate reports exactly what the unmodified checkov CLI reports, so a checkov upgrade
must keep that test green.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Set to 1 to keep checkov's own logging setup (debugging checkov itself).
CHECKOV_LOG_ENV = "MLFARGATE_CHECKOV_LOG"


@dataclass
class LoggingState:
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
    def capture(cls) -> LoggingState:
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


def parsed_read_only(file: Path) -> dict[str, Any]:
    """A file's parsed HCL from the parse cache, not copied: for callers that only read it."""
    from checkov.terraform import tf_parser

    key = _parse_key(file)
    if key is None:
        return {}
    if key not in _PARSE_CACHE:
        tf_parser.load_or_die_quietly(file, {})  # type: ignore[attr-defined]  # fills the cache
    parsed = _PARSE_CACHE.get(key)
    return parsed if isinstance(parsed, dict) else {}


def install_parse_cache() -> None:
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


def reuse_expression_evaluator() -> None:
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


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../", "/"))


#: Per workspace (real path) being scanned: (real path of the calling module's directory, source and
#: version as written, "latest" without one) -> the directory Terraform installed that call into.
#: Filled by :func:`_module_map` before each scan, read by the module loader checkov calls during it.
INSTALLED_CALLS: dict[str, dict[tuple[str, str, str], str]] = {}


def install_initialized_module_loader() -> None:
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
            calls = INSTALLED_CALLS.get(os.path.realpath(module_params.root_dir or "."), {})
            key = (
                os.path.realpath(module_params.current_dir),
                module_params.module_source,
                module_params.version or "latest",
            )
            return calls.get(key)

        def _is_matching_loader(self, module_params: ModuleParams) -> bool:
            return (
                not is_local_source(module_params.module_source)
                and self._installed(module_params) is not None
            )

        def _find_module_path(self, module_params: ModuleParams) -> str:
            return ""  # always resolve through _load_module

        def _load_module(self, module_params: ModuleParams) -> ModuleContent:
            return ModuleContent(self._installed(module_params))

    InitializedModuleLoader()
