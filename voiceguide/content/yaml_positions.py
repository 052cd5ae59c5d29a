"""Read and parse YAML into plain data, remembering where every key and value sits in the file.

This is the one YAML loader: routines, the exercise library, locales and the config all come
through it, so every file gets the same bounds and the same error format.

- **Bounded reading.** Only regular files are opened (a FIFO or a symlink to /dev/zero is refused
  from its stat, never read), and a file over MAX_FILE_BYTES is refused unread.
- **Bounded parsing.** libyaml's C parser where PyYAML has it; a pass over the events refuses
  nesting deeper than MAX_DEPTH before anything recursive runs, and aliases may expand the
  document to at most MAX_NODES values.
- **YAML 1.2 core schema scalars.** `010` is ten, `1:30` and `no` are text, `1e3` is a number;
  `.nan` and `.inf` are refused (a bound compares false against NaN, so it would slip through).

PyYAML's constructor throws positions away, so we compose the node tree and build the data
ourselves, recording each node's mark under its data path. Anchors, aliases and merge keys
(`<<: *anchor`) are resolved here too. Every failure is a Problem at file:line:column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from yaml.events import CollectionEndEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from voiceguide.content import yaml_core12 as y12
from voiceguide.content.bounded_read import MAX_FILE_BYTES, read_bounded, too_big
from voiceguide.content.problem import Problem, format_field

DataPath = tuple[str | int, ...]

# Aliases can expand exponentially ("billion laughs"); no real routine comes near this.
MAX_NODES = 50_000
MAX_DEPTH = 64
MAX_INT_DIGITS = 18  # beyond this a whole number is a typo, and huge ints are slow to handle

_RECURSIVE = "an alias refers to itself; recursive data is not allowed"


@dataclass(frozen=True)
class Pos:
    """Where a value (and the key naming it, if any) starts: 1-based line and column."""

    line: int
    column: int
    key_line: int
    key_column: int


class _Refused(Exception):
    """A value or document we will not build; one Problem at `mark`."""

    def __init__(self, mark: Any, message: str, path: DataPath = ()) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.path = path


@dataclass
class ParsedYaml:
    """A parsed YAML file: its data, the position of every path, and any problems."""

    path: str
    data: Any = None
    positions: dict[DataPath, Pos] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    parsed: bool = False  # False when the file could not be read or parsed at all
    empty: bool = False  # the file holds no document (nothing, or only comments)

    def pos(self, path: DataPath) -> Pos:
        """Position of `path`, or of its nearest recorded ancestor."""
        while path and path not in self.positions:
            path = path[:-1]
        return self.positions.get(path, Pos(1, 1, 1, 1))

    def problem(self, path: DataPath, message: str, *, at_key: bool = False) -> Problem:
        """A Problem at `path` (its key when `at_key`, else its value)."""
        pos = self.pos(path)
        line, column = (pos.key_line, pos.key_column) if at_key else (pos.line, pos.column)
        return Problem(self.path, line, column, format_field(path), message)


def _file_problem(path: str, line: int, column: int, message: str) -> Problem:
    return Problem(path, line, column, "", message)


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_yaml_file(path: Path, display: str | None = None) -> ParsedYaml:
    """Read and parse one YAML file; every failure becomes a Problem, never an exception."""
    name = display if display is not None else str(path)
    raw = read_bounded(path)
    if isinstance(raw, str):
        return ParsedYaml(name, problems=[_file_problem(name, 1, 1, raw)])
    return parse_yaml_bytes(raw, name)


def parse_yaml_resource(resource: Traversable, display: str) -> ParsedYaml:
    """Parse a file bundled in the package (a plain path when installed normally)."""
    if isinstance(resource, Path):
        return parse_yaml_file(resource, display)
    raw = resource.read_bytes()  # inside a zip: no FIFOs there, but keep the size cap
    if len(raw) > MAX_FILE_BYTES:
        return ParsedYaml(display, problems=[_file_problem(display, 1, 1, too_big(len(raw)))])
    return parse_yaml_bytes(raw, display)


def parse_yaml_bytes(raw: bytes, name: str) -> ParsedYaml:
    """Decode UTF-8 bytes that came from file `name` and parse them."""
    if len(raw) > MAX_FILE_BYTES:
        return ParsedYaml(name, problems=[_file_problem(name, 1, 1, too_big(len(raw)))])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        byte = raw[e.start]
        message = f"file is not UTF-8 text (byte 0x{byte:02x} cannot be decoded)"
        return ParsedYaml(name, problems=[_file_problem(name, line, column, message)])
    return parse_yaml_text(text, name)


_TOO_DEEP = f"could not parse YAML: values are nested more than {MAX_DEPTH} deep"


def _check_depth(loader: Any) -> None:
    """Walk the event stream (flat, not recursive) and refuse nesting deeper than MAX_DEPTH."""
    depth = 0
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(event.start_mark, _TOO_DEEP)
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _compose(text: str) -> Node | None:
    loader = y12.Loader(text)
    try:
        _check_depth(loader)
    finally:
        loader.dispose()
    loader = y12.Loader(text)  # the reader rejects control characters right here
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def _python_error(text: str) -> yaml.YAMLError | None:
    """The pure-Python parser's error for `text`: it names the character it stopped at."""
    try:
        loader = y12.PyLoader(text)  # the reader checks every character up front
    except yaml.YAMLError as e:
        return e
    try:
        # With the same depth bound: the Python scanner slows quadratically with flow nesting.
        _check_depth(loader)
    except yaml.YAMLError as e:
        return e
    except _Refused:
        return None
    finally:
        loader.dispose()
    return None


def _yaml_problem(error: yaml.YAMLError, text: str, name: str) -> Problem:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = error.problem or error.context or "syntax error"
        if "nesting depth" in reason:  # libyaml's own limit, met while scanning ahead
            return _file_problem(
                name, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, _TOO_DEEP
            )
        if error.context and reason.startswith("but "):
            reason = f"{error.context}, {reason}"  # "expected a single document ..., but found ..."
        return _file_problem(name, line, column, f"could not parse YAML: {reason}")
    if isinstance(error, yaml.reader.ReaderError):
        line, column = _line_col(text, error.position)
        message = f"could not parse YAML: unacceptable character #x{error.character:04x}"
        return _file_problem(name, line, column, message)
    return _file_problem(name, 1, 1, f"could not parse YAML: {error}")


def parse_yaml_text(text: str, name: str) -> ParsedYaml:
    """Parse YAML text that came from file `name` (used in problem locations)."""
    result = ParsedYaml(name)
    try:
        node = _compose(text)
        if node is None:
            result.empty = True
            result.problems.append(_file_problem(name, 1, 1, "file is empty"))
            return result
        builder = _Builder(result)
        result.data = builder.build(node, (), None)
        result.parsed = True
    except yaml.YAMLError as e:
        # libyaml's messages are terser ("found character that cannot start any token");
        # the pure-Python parser, run only on failure, says which character and why.
        better = _python_error(text) if y12.using_libyaml() else None
        result.problems.append(_yaml_problem(better or e, text, name))
    except _Refused as e:
        line, column = (e.mark.line + 1, e.mark.column + 1) if e.mark else (1, 1)
        result.problems.append(Problem(name, line, column, format_field(e.path), e.message))
    except RecursionError:  # not expected after the depth check; still one line, not a crash
        message = "could not parse YAML: the document is too deeply nested"
        result.problems.append(_file_problem(name, 1, 1, message))
    if not result.parsed:
        result.data = None
    return result


def _pos(node: Node, key_node: Node | None) -> Pos:
    mark = node.start_mark
    key_mark = key_node.start_mark if key_node is not None else mark
    return Pos(mark.line + 1, mark.column + 1, key_mark.line + 1, key_mark.column + 1)


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, recording positions as it goes."""

    def __init__(self, result: ParsedYaml) -> None:
        self.result = result
        self.nodes_left = MAX_NODES
        self.active: set[int] = set()  # nodes on the current path, to stop recursive aliases

    def _problem(self, node: Node, path: DataPath, message: str) -> None:
        mark = node.start_mark
        self.result.problems.append(
            Problem(self.result.path, mark.line + 1, mark.column + 1, format_field(path), message)
        )

    def build(self, node: Node, path: DataPath, key_node: Node | None) -> Any:
        self.nodes_left -= 1
        if self.nodes_left < 0:
            message = f"could not parse YAML: aliases expand it to more than {MAX_NODES:,} values"
            raise _Refused(node.start_mark, message)
        # Aliases and merge keys can nest deeper than the text does; `active` is the real stack.
        if len(path) > MAX_DEPTH or len(self.active) > MAX_DEPTH:
            message = f"could not parse YAML: values are nested more than {MAX_DEPTH} deep"
            raise _Refused(node.start_mark, message)
        self.result.positions[path] = _pos(node, key_node)
        if isinstance(node, ScalarNode):
            return _scalar(node, path)
        if id(node) in self.active:
            self._problem(node, path, _RECURSIVE)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != y12.SEQ_TAG:
                    self._problem(node, path, f"unsupported YAML tag '{node.tag}'")
                return [self.build(item, (*path, i), None) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            if node.tag != y12.MAP_TAG:
                self._problem(node, path, f"unsupported YAML tag '{node.tag}'")
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        # Merged keys first, explicit keys after, so explicit ones win (and so do their positions).
        for key_node, value_node in node.value:
            if key_node.tag == y12.MERGE_TAG:
                result.update(self._merge_sources(value_node, path))
        seen: dict[str, int] = {}  # key -> line it was first written on
        for key_node, value_node in node.value:
            if key_node.tag == y12.MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, path, "mapping keys must be plain text")
                continue
            # The key as written: "on:" stays "on", not True, so messages quote what the user typed.
            key = key_node.value
            if key in seen:
                first = seen[key]
                self._problem(
                    key_node, (*path, key), f"duplicate key '{key}' (first on line {first})"
                )
            else:
                seen[key] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*path, key), key_node)
        return result

    def _merge_sources(self, value_node: Node, path: DataPath) -> dict[str, Any]:
        if isinstance(value_node, MappingNode):
            sources = [value_node]
        elif isinstance(value_node, SequenceNode) and all(
            isinstance(n, MappingNode) for n in value_node.value
        ):
            sources = list(value_node.value)
        else:
            self._problem(
                value_node, path, "'<<' must be followed by a mapping or list of mappings"
            )
            return {}
        result: dict[str, Any] = {}
        # In `<<: [*a, *b]` the earlier mapping wins, so build later ones first and overwrite.
        for source in reversed(sources):
            if id(source) in self.active:
                self._problem(value_node, path, _RECURSIVE)
                continue
            self.active.add(id(source))
            try:
                result.update(self._mapping(source, path))
            finally:
                self.active.discard(id(source))
        return result


def _scalar(node: ScalarNode, path: DataPath) -> Any:
    """A scalar by its (YAML 1.2 core) tag; anything else is refused, never guessed."""
    tag, value = node.tag, node.value
    if tag == y12.STR_TAG:
        return value
    if tag == y12.NULL_TAG and y12.NULL.match(value):
        return None
    if tag == y12.BOOL_TAG and y12.BOOL.match(value):
        return value.lower() == "true"
    if tag == y12.INT_TAG and y12.INT.match(value):
        digits = value.lstrip("+-")
        if len(digits) > MAX_INT_DIGITS:
            raise _Refused(node.start_mark, f"{value[:24]}... is too large a number", path)
        if digits.startswith(("0o", "0x")):
            return int(digits[2:], 8 if digits[1] == "o" else 16)
        return int(value, 10)
    if tag == y12.FLOAT_TAG and y12.FLOAT.match(value):
        special = value.lstrip("+-").lower() in (".inf", ".nan")
        number = math.inf if special else float(value)  # 1e999 overflows to inf too
        if not math.isfinite(number):
            message = f"{value} is not a finite number; write a number such as 0.5"
            raise _Refused(node.start_mark, message, path)
        return number
    if tag in (y12.NULL_TAG, y12.BOOL_TAG, y12.INT_TAG, y12.FLOAT_TAG):
        kind = tag.rsplit(":", 1)[-1]
        raise _Refused(node.start_mark, f"'{value}' is not a valid !!{kind} value", path)
    message = f"could not parse YAML: could not determine a constructor for the tag '{tag}'"
    raise _Refused(node.start_mark, message)
