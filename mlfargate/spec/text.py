"""The spec as text: the default file name, the commented example, and YAML reading and parsing whose
errors are one line with line/column. Operators' files are read strictly (:func:`read_text`: a regular
file of at most 1 MiB of UTF-8; :class:`_SpecLoader`: no duplicate keys, bounded nesting and integer
literals). No pydantic here, so a front-end can read and show a spec's text before the model
(:mod:`mlfargate.spec.model`, which re-exports these names) has loaded."""

from __future__ import annotations

import os
import stat
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mlfargate.errors import InputFileError, shown

DEFAULT_FILE = "mlfargate.yaml"


def example_text() -> str:
    """The commented example spec ``mlfargate init`` writes (package data)."""
    return resources.files("mlfargate.data").joinpath("example-spec.yaml").read_text(encoding="utf-8")


def load_data(text: str) -> Any:
    """Parse a package data file (catalog, prices): libyaml's C loader when PyYAML was built with it
    (five to ten times faster, the same result), else the pure-Python one. Not for operators' files:
    their syntax errors are reported by :func:`parse_yaml`."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


#: The largest spec file read: a spec is a few KB; the limit keeps a wrong file (a log, a disk image)
#: from being read whole.
MAX_SPEC_BYTES = 1024 * 1024
#: The deepest nesting of YAML collections read (a spec nests 4 levels: scaling.schedules[0].name);
#: deeper documents are refused before they can exhaust the parser's recursion.
MAX_DEPTH = 32
#: The longest integer literal read: every number in a spec has a handful of digits, and converting a
#: huge literal is slow (Python refuses more than 4300 digits outright).
MAX_INT_LITERAL = 100

_FILE_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_text(path: Path) -> str:
    """A spec file's text: only a regular file, at most :data:`MAX_SPEC_BYTES` of UTF-8. A FIFO, a
    device (``/dev/zero``, ``/dev/urandom``) or a huge file is refused without reading it whole."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputFileError(f"{path}: is a directory, expected a YAML file")
        if not stat.S_ISREG(mode):
            kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise InputFileError(f"{path}: is {kind}, not a regular file; give the spec's YAML file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_SPEC_BYTES and (chunk := os.read(fd, MAX_SPEC_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_SPEC_BYTES:
        raise InputFileError(
            f"{path}: is larger than 1 MiB ({MAX_SPEC_BYTES} bytes), the most a spec may have; "
            "a spec is a few KB of YAML"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A key given twice in one mapping (PyYAML would keep the last one silently)."""

    def __init__(self, key: object, first: yaml.Mark, again: yaml.Mark) -> None:
        super().__init__(problem="duplicate key", problem_mark=again)
        self.key, self.first, self.again = key, first, again


class _SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader, strict where a spec needs it: duplicate keys, nesting depth, huge integer
    literals, and values a constructor cannot build (``!!float abc``, a timestamp of month 13) are
    errors with a position, never a silent choice, a RecursionError or a ValueError."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"collections nested more than {MAX_DEPTH} deep; a spec nests 4",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # `!!set [1]`: SafeConstructor says what it expected
            return super().construct_mapping(node, deep=deep)
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults`: merged keys may be overridden, as YAML says
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: SafeConstructor reports it
            if first is not key_node.start_mark:
                raise DuplicateKeyError(key, first, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(str(node.value)) > MAX_INT_LITERAL:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"an integer of {len(str(node.value))} characters; numbers in a spec have a few digits",
                node.start_mark,
            )
        return super().construct_yaml_int(node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # PyYAML's constructors raise anything: `!!float abc` ValueError,
            # `2024-13-45` ValueError, `!!int` (empty) IndexError, `!!bool x` KeyError
            raise _unreadable(node, exc) from None

    def construct_document(self, node: yaml.Node) -> Any:
        try:
            return super().construct_document(node)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # raised later, by the generators that fill collections (`!!map x`)
            raise _unreadable(node, exc) from None


def _unreadable(node: yaml.Node, exc: Exception) -> yaml.constructor.ConstructorError:
    reason = f" ({exc})" if str(exc) else ""
    return yaml.constructor.ConstructorError(
        None, None, f"cannot read this {_tag_name(node.tag)}{reason}", node.start_mark
    )


_SpecLoader.add_constructor("tag:yaml.org,2002:int", _SpecLoader.construct_yaml_int)


def _tag_name(tag: str) -> str:
    return tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else "value"


def read_yaml(path: Path) -> Any:
    """Read a spec's YAML (:func:`read_text`, :func:`parse_yaml`); every failure is one line, with
    line/column where the parser has one."""
    return parse_yaml(read_text(path), str(path))


def parse_yaml(text: str, where: str) -> Any:
    """Parse a spec's YAML text (strictly: :class:`_SpecLoader`); an error is one line naming ``where``
    (a file, an editor) with line/column."""
    try:
        return yaml.load(text, Loader=_SpecLoader)
    except DuplicateKeyError as exc:
        raise InputFileError(
            f"{where}: duplicate key {shown(exc.key)} at line {exc.first.line + 1} and line "
            f"{exc.again.line + 1}; a key may appear once in a mapping"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise InputFileError(f"{where}: invalid YAML at {at}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputFileError(f"{where}: invalid YAML: {exc}") from None
    except RecursionError:  # a structure the depth limit did not cover (defence in depth)
        raise InputFileError(f"{where}: invalid YAML: nested too deeply") from None
