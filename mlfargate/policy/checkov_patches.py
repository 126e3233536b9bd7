"""What the gate patches into checkov, and why each patch is safe.

* Logging (:class:`LoggingState`): importing checkov rewires the process's logging; the gate puts it back.
* Parse cache (:func:`install_parse_cache`): parsed HCL of unchanged files is reused between scans, and
  between processes through :mod:`mlfargate.policy.parse_cache`.
* Expression evaluation (:func:`reuse_expression_evaluator`): one asteval interpreter per thread and
  results memoised by expression text, in the process and between processes
  (:mod:`mlfargate.policy.eval_cache`).
* Installed remote modules (:func:`install_initialized_module_loader`): remote module calls are read
  from where ``terraform init`` installed them (:data:`INSTALLED_CALLS`, filled by the gate).
* JSONPath parser (:func:`reuse_jsonpath_parser`): the LALR tables are built once per thread, not once
  per path expression.

These touch checkov internals (``tf_parser.load_or_die_quietly``, ``bc_jsonpath_ng``'s parser,
``safe_eval_functions.get_asteval``, ``evaluate_terraform.evaluate`` and ``find_brackets_pairs``, the
module loader registry): tests/policy/test_policy_matches_cli.py
proves the patched gate reports exactly what the unmodified checkov CLI reports, so a checkov upgrade
must keep that test green.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
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
#: warm scan reuses the parse of every file whose bytes are unchanged, and a new process reuses the parses
#: earlier processes stored on disk (:mod:`mlfargate.policy.parse_cache`). Callers get deep copies
#: (checkov mutates what it loads); a file that fails to parse is never cached, so its error is reported
#: each time.
_PARSE_CACHE: dict[tuple[str, str, bool], Any] = {}


def _parse_key(file: Any, clean_definitions: bool = True) -> tuple[tuple[str, str, bool], bytes] | None:
    """The parse cache's key for a file (its real path, the SHA-256 of its bytes, clean_definitions) and
    the bytes; None if unreadable."""
    import hashlib

    path = os.fspath(file)
    try:
        content = Path(path).read_bytes()
    except OSError:
        return None
    return (os.path.realpath(path), hashlib.sha256(content).hexdigest(), clean_definitions), content


def parsed_read_only(file: Path) -> dict[str, Any]:
    """A file's parsed HCL from the parse cache, not copied: for callers that only read it."""
    from checkov.terraform import tf_parser

    found = _parse_key(file)
    if found is None:
        return {}
    key, _ = found
    if key not in _PARSE_CACHE:
        tf_parser.load_or_die_quietly(file, {})  # type: ignore[attr-defined]  # fills the cache
    parsed = _PARSE_CACHE.get(key)
    return parsed if isinstance(parsed, dict) else {}


def install_parse_cache() -> None:
    import copy

    from checkov.terraform import parser_utils, tf_parser
    from checkov.terraform.module_loading import module_finder

    from mlfargate.policy import parse_cache

    original = parser_utils.load_or_die_quietly

    def load_cached(file: Any, parsing_errors: dict[str, Exception], clean_definitions: bool = True) -> Any:
        found = _parse_key(file, clean_definitions)
        if found is None:
            return original(file, parsing_errors, clean_definitions)
        key, content = found
        if key not in _PARSE_CACHE:
            disk_key = parse_cache.key(key[0], content, clean_definitions)
            parsed = parse_cache.load(disk_key)
            if parsed is None:
                parsed = original(file, parsing_errors, clean_definitions)
                if parsed is None:
                    return None
                if _parse_key(file, clean_definitions) == found:  # unchanged while it was parsed
                    parse_cache.store(disk_key, parsed)
            _PARSE_CACHE[key] = parsed
        return copy.deepcopy(_PARSE_CACHE[key])

    tf_parser.load_or_die_quietly = load_cached  # type: ignore[attr-defined]
    module_finder.load_or_die_quietly = load_cached  # type: ignore[attr-defined]


#: Memoised evaluations (see :func:`reuse_expression_evaluator`), least recently used first: expression
#: text -> (ok, value or error message), and (text, keep_interpolations) -> ``evaluate_terraform``'s value.
#: Filled from and saved to the user's cache directory by :mod:`mlfargate.policy.eval_cache`.
_EVALUATED: OrderedDict[str, tuple[bool, Any]] = OrderedDict()
_RENDERED: OrderedDict[tuple[str, bool], Any] = OrderedDict()
_MEMO_LOCK = threading.Lock()
_MEMO_CHANGED = threading.Event()


def reuse_expression_evaluator() -> None:
    """Variable rendering is most of a warm scan: checkov builds a new asteval ``Interpreter`` for each
    expression and evaluates the same expression text many times (environments/prod: 6,628 evaluations
    of 2,336 distinct strings). Both are pure here: ``eval`` clears the interpreter's errors first and the
    expressions are Terraform values, never assignments. So: one interpreter per thread, and results
    memoised by expression text (bounded; deep copies out, since callers may mutate lists and dicts;
    failures re-raised as a fresh error with the same message; ``timestamp()`` never cached). The same
    for ``evaluate_terraform`` on a text (the string work around ``evaluate``: constants of its module,
    no state; a failure is not memoised). The memos start from what earlier processes stored
    (:func:`save_evaluations`)."""
    import copy

    from checkov.terraform.graph_builder.foreach import abstract_handler
    from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform, safe_eval_functions

    from mlfargate.policy import eval_cache

    make = safe_eval_functions.get_asteval
    local = threading.local()

    def shared() -> Any:
        interpreter = getattr(local, "interpreter", None)
        if interpreter is None:
            interpreter = local.interpreter = make()
        return interpreter

    safe_eval_functions.get_asteval = shared

    evaluated, rendered = eval_cache.load()
    with _MEMO_LOCK:
        _EVALUATED.update(evaluated)
        _RENDERED.update(rendered)

    evaluate = safe_eval_functions.evaluate

    def evaluate_memoised(input_str: str) -> Any:
        if not isinstance(input_str, str) or "timestamp(" in input_str:
            return evaluate(input_str)
        with _MEMO_LOCK:
            hit = _EVALUATED.get(input_str)
            if hit is not None:
                _EVALUATED.move_to_end(input_str)
        if hit is None:
            try:
                value = evaluate(input_str)
            except Exception as exc:
                hit = (False, str(exc))
            else:
                hit = (True, value)
            with _MEMO_LOCK:
                _EVALUATED[input_str] = hit
                if len(_EVALUATED) > _EVAL_MEMO_MAX:
                    _EVALUATED.popitem(last=False)
            _MEMO_CHANGED.set()
        ok, value = hit
        if not ok:
            raise ValueError(value)
        return copy.deepcopy(value)

    render = evaluate_terraform.evaluate_terraform
    missing = object()

    def render_memoised(input_str: Any, keep_interpolations: bool = True) -> Any:
        if type(input_str) is not str or "timestamp(" in input_str:
            return render(input_str, keep_interpolations)
        key = (input_str, bool(keep_interpolations))
        with _MEMO_LOCK:
            value = _RENDERED.get(key, missing)
            if value is not missing:
                _RENDERED.move_to_end(key)
        if value is missing:
            value = render(input_str, keep_interpolations)
            with _MEMO_LOCK:
                _RENDERED[key] = value
                if len(_RENDERED) > _EVAL_MEMO_MAX:
                    _RENDERED.popitem(last=False)
            _MEMO_CHANGED.set()
        return copy.deepcopy(value)

    evaluate_terraform.evaluate = evaluate_memoised  # type: ignore[attr-defined]
    evaluate_terraform.find_brackets_pairs = find_brackets_pairs
    evaluate_terraform.evaluate_terraform = render_memoised
    abstract_handler.evaluate_terraform = render_memoised  # type: ignore[attr-defined]


def save_evaluations() -> None:
    """Store the memos for later processes when a scan added to them."""
    from mlfargate.policy import eval_cache

    if not _MEMO_CHANGED.is_set():
        return
    _MEMO_CHANGED.clear()
    with _MEMO_LOCK:
        evaluated, rendered = dict(_EVALUATED), dict(_RENDERED)
    eval_cache.save(evaluated, rendered)


def find_brackets_pairs(input_str: str, starting: str, closing: str) -> list[dict[str, int]]:
    """checkov's ``evaluate_terraform.find_brackets_pairs``, the same result in linear time: checkov's
    visits every character in Python and copies its stack of open brackets at each closing one, ~10% of a
    scan of a generated workspace (long JSON policy strings). Each closing bracket closes the innermost
    open one (a stray closing one is ignored); the pairs enclosing something are listed by their opening
    position. tests/policy/test_checkov_patches.py compares it with checkov's on generated strings."""
    import re

    open_at: list[int] = []
    ends: dict[int, int] = {}
    for match in re.finditer(f"[{re.escape(starting)}{re.escape(closing)}]", input_str):
        if match.group() == starting:
            open_at.append(match.start())
        elif open_at:
            ends[open_at.pop()] = match.start()
    return [{"start": start, "end": ends[start]} for start in sorted(ends) if ends[start] - start > 1]


def reuse_jsonpath_parser() -> None:
    """checkov parses a JSONPath (``bc_jsonpath_ng.ext.parse``) for every attribute it renders through a
    ``for_each``/``dynamic`` path, and ``bc_jsonpath_ng`` regenerates its PLY LALR tables from the
    grammar on every parse ("we regenerate the parse table every time; it doesn't actually take that
    long!"): ~0.1 s each, ~40% of a scan of a generated workspace. The grammar is the parser class's
    docstrings, so the tables are the same every time: build them once per (parser class, start symbol,
    debug flag) and thread (a PLY parser keeps its stacks on itself while parsing). The grammar actions
    read nothing from the parser instance, so the first instance's bound actions serve every parse."""
    import ply.yacc  # type: ignore[import-untyped]
    from bc_jsonpath_ng import parser as jsonpath_parser

    local = threading.local()

    def parse_token_stream(self: Any, token_iterator: Any, start_symbol: str = "jsonpath") -> Any:
        parsers: dict[tuple[type, str, bool], Any] = local.__dict__.setdefault("parsers", {})
        key = (type(self), start_symbol, bool(self.debug))
        parser = parsers.get(key)
        if parser is None:
            # The same call as bc_jsonpath_ng's parse_token_stream makes (tables never written).
            parser = parsers[key] = ply.yacc.yacc(
                module=self,
                debug=self.debug,
                tabmodule="_".join(["parser", start_symbol, "parsetab"]),
                outputdir=os.path.dirname(jsonpath_parser.__file__),
                write_tables=0,
                start=start_symbol,
                errorlog=jsonpath_parser.logger,
            )
        return parser.parse(lexer=jsonpath_parser.IteratorToTokenStream(token_iterator))  # type: ignore[no-untyped-call]

    jsonpath_parser.JsonPathParser.parse_token_stream = parse_token_stream  # type: ignore[method-assign]


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
